/**
 * Names Baton gives to git branches, PR titles and labels. Deterministic from the change, so rerunning
 * the same promotion finds (and updates) the same branch and PR.
 */
import { imageShortName, shortDigest } from "../config/image-ref.js";
import type { Pin } from "../config/pins.js";
import type { BatonKind } from "./trailers.js";

export const LABELS = { baton: "baton", promotion: "promotion", pin: "pin", rollback: "rollback", release: "release", env: (env: string) => `env:${env}`, wave: (n: number) => `wave:${n}` } as const;

/** The pin a branch name is keyed on: the first image by repository, so the choice is stable. */
function keyPin(pins: Pin[]): Pin | undefined {
  return [...pins].sort((a, b) => a.repository.localeCompare(b.repository))[0];
}

export function promotionBranch(to: string, pins: Pin[]): string {
  return `baton/promote/${to}/${shortDigest(keyPin(pins)?.digest)}`;
}

export function pinBranch(env: string, pins: Pin[]): string {
  return `baton/pin/${env}/${shortDigest(keyPin(pins)?.digest)}`;
}

/**
 * confirm/abort/retire PRs are keyed on the environment and the release (its candidate's digest; for
 * retire, the digest that completed), so a second `baton confirm` or a promoter rerun updates the open PR.
 */
export function releaseBranch(action: "confirm" | "abort" | "retire", env: string, pins: Pin[]): string {
  return `baton/${action}/${env}/${shortDigest(keyPin(pins)?.digest)}`;
}

export function rollbackBranch(env: string, headSha: string): string {
  return `baton/rollback/${env}/${headSha.slice(0, 7)}`;
}

/** `web@sha256:abcd123`, plus ` and N more` when several images move together. */
export function imagesPhrase(pins: Pin[]): string {
  const sorted = [...pins].sort((a, b) => a.repository.localeCompare(b.repository));
  const first = sorted[0];
  if (!first) return "nothing";
  const name = `${imageShortName(first.repository)}@sha256:${shortDigest(first.digest)}`;
  return sorted.length > 1 ? `${name} and ${sorted.length - 1} more` : name;
}

export function promotionTitle(to: string, pins: Pin[]): string {
  return `Promote ${imagesPhrase(pins)} to ${to}`;
}

export function pinTitle(env: string, pins: Pin[]): string {
  return `Pin ${imagesPhrase(pins)} in ${env}`;
}

/** PR numbers from merge subjects: GitHub's `Merge pull request #12 from …` and squash `Title (#12)`. */
export function pullNumberFromSubject(subject: string): number | undefined {
  const m = /^Merge pull request #(\d+)\b/.exec(subject) ?? /\(#(\d+)\)\s*$/.exec(subject);
  return m?.[1] ? Number(m[1]) : undefined;
}

export type ChangeKind = BatonKind;

/**
 * What Baton change a first-parent commit landed, from its trailers when the message kept them (a Baton
 * commit, a rebased one, a single-commit squash, a PR body carrying them), else from the names Baton
 * gives: the branch in GitHub's merge subject, or the PR title in a squash subject "<title> (#n)".
 */
export function changeKind(subject: string, trailerKind: ChangeKind | undefined): ChangeKind | undefined {
  if (trailerKind) return trailerKind;
  const branch = /^Merge pull request #\d+ from \S*?baton\/(promote|pin|rollback|confirm|abort|retire)\//.exec(subject)?.[1];
  if (branch) return branch === "promote" ? "promotion" : (branch as ChangeKind);
  if (/\(#\d+\)\s*$/.test(subject)) {
    if (/^Promote \S+ .*to \S+( \(wave \d+: [^)]*\))? \(#\d+\)$/.test(subject)) return "promotion";
    if (/^Pin \S+ .*in \S+ \(#\d+\)$/.test(subject)) return "pin";
    if (/^Roll back \S+ .*in \S+ \(#\d+\)$/.test(subject)) return "rollback";
    // Release titles (release.ts): "<Verb> <images> in <env>: <what the step does> (#n)".
    if (/^Confirm \S+ .*in \S+: .+ \(#\d+\)$/.test(subject)) return "confirm";
    if (/^Abort \S+ .*in \S+: .+ \(#\d+\)$/.test(subject)) return "abort";
    if (/^Retire the old slot of \S+ .*in \S+: .+ \(#\d+\)$/.test(subject)) return "retire";
  }
  return undefined;
}
