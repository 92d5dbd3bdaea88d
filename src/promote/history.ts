/**
 * `baton history <env>`: what landed in the environment — the first-parent commits of the base branch that
 * changed its pins (see changes.ts; for a kustomize environment the pins it renders, bases included), and
 * in a strategy environment those that moved its release.yaml; whoever wrote them and however they were
 * merged: when, which commit,
 * who (for a merge commit: who merged), what kind, which PR, and the digests it left running. Trailers only
 * name the kind and source; the digests come from the files.
 */
import { loadPipeline, type PipelineEnvironment } from "../config/pipeline.js";
import { destinationOf } from "./waves.js";
import { BatonError, BatonErrors } from "../errors.js";
import type { GitHubApi } from "../github/api.js";
import { pinChanges, type PinChange, type PinDelta, type PinnedImage } from "./changes.js";
import { GitWorkspace } from "./git-workspace.js";
import { objectReader, sharedLog, type HistoryGit } from "./git-objects.js";
import { changeKind, pullNumberFromSubject, type ChangeKind } from "./naming.js";
import { releaseFilePath } from "../release/release.js";
import { renderedPinSource, type PinSource } from "./rendered-pins.js";
import { parseBatonCommit } from "./trailers.js";

export { pinsInFiles } from "./changes.js";

export interface HistoryEntry {
  time: string;
  commit: string;
  author: string;
  subject: string;
  /** confirm, abort and retire move a progressive release; a confirm or retire changes no digest. */
  kind: ChangeKind | "merge" | "commit";
  from?: string;
  /** Release commits: `step N` or `complete` (confirm), `manual` or `auto` (abort), the slot (retire). */
  release?: string;
  pr?: number;
  /** The pins after this commit. */
  digests: PinnedImage[];
  /** What it changed. */
  changes: PinDelta[];
  /** In a stage's history: the target this row is about. */
  target?: string;
}

/** Pure: one history row from a pin change and the message that may carry Baton's trailers. */
export function historyEntry(change: PinChange, trailerMessage: string, pr?: number): HistoryEntry {
  const { entry } = change;
  const parsed = parseBatonCommit(trailerMessage);
  const kind = changeKind(entry.subject, parsed.kind) ?? (entry.parents.length > 1 ? "merge" : "commit");
  const out: HistoryEntry = { time: entry.date, commit: entry.sha, author: entry.author, subject: entry.subject, kind, digests: change.after, changes: change.deltas };
  if (parsed.from) out.from = parsed.from;
  if (parsed.release) out.release = parsed.release;
  const number = pullNumberFromSubject(entry.subject) ?? pr;
  if (number !== undefined) out.pr = number;
  return out;
}

/**
 * With `github`, commits whose subject names no PR (rebase merges) are looked up with GitHub's
 * "pull requests associated with a commit"; GitHub failures only leave the PR column empty.
 */
export async function history(repo: string, envName: string, options: { limit?: number; github?: GitHubApi } = {}): Promise<HistoryEntry[]> {
  const dest = destinationOf(await loadPipeline(repo), envName);
  const reader = await objectReader(await GitWorkspace.open(repo));
  if (!dest.stage.staged || dest.namedTarget) return environmentHistory(reader, dest.targets[0] as PipelineEnvironment, options);
  // A stage's history is its targets', one row per target a commit changed, newest first (a wave's merge
  // changes every target of the wave).
  const rows: HistoryEntry[] = [];
  for (const target of dest.targets) rows.push(...(await environmentHistory(reader, target, options)).map((e) => ({ ...e, target: target.name })));
  const rank = new Map(dest.targets.map((t, i) => [t.name, i]));
  rows.sort((a, b) => Date.parse(b.time) - Date.parse(a.time) || (rank.get(a.target ?? "") ?? 0) - (rank.get(b.target ?? "") ?? 0));
  return options.limit ? rows.slice(0, options.limit) : rows;
}

/**
 * Every environment's history from one `git log` over all their folders and in-process object reads: what
 * the console's board needs. An environment whose history cannot be read gets its error instead.
 */
export async function histories(repo: string, envs: PipelineEnvironment[], options: { limit?: number } = {}): Promise<Map<string, HistoryEntry[] | BatonError | BatonErrors>> {
  const ws = await GitWorkspace.open(repo);
  const reader = await objectReader(ws);
  const sources = new Map<string, PinSource | undefined | BatonError | BatonErrors>();
  for (const env of envs) sources.set(env.name, await renderedPinSource(reader, env).catch(batonErrorOr));
  const paths = envs.flatMap((env) => {
    const source = sources.get(env.name);
    return source instanceof BatonError || source instanceof BatonErrors ? [] : source?.paths ?? [env.path];
  });
  const shared = await sharedLog(reader, ws, [...new Set(paths)]);
  const out = new Map<string, HistoryEntry[] | BatonError | BatonErrors>();
  for (const env of envs) {
    const source = sources.get(env.name);
    if (source instanceof BatonError || source instanceof BatonErrors) out.set(env.name, source);
    else out.set(env.name, await environmentHistory(shared, env, { ...options, source }).catch(batonErrorOr));
  }
  return out;
}

function batonErrorOr(e: unknown): BatonError | BatonErrors {
  if (e instanceof BatonError || e instanceof BatonErrors) return e;
  throw e;
}

export async function environmentHistory(git: HistoryGit, env: PipelineEnvironment, options: { limit?: number; github?: GitHubApi; source?: PinSource | undefined }): Promise<HistoryEntry[]> {
  const out: HistoryEntry[] = [];
  const source = "source" in options ? options.source : await renderedPinSource(git, env);
  // With a strategy, the release's steps (commits to release.yaml alone) are part of what landed.
  const alsoFile = env.strategy ? releaseFilePath(env) : undefined;
  for (const change of await pinChanges(git, env.path, { ...(options.limit ? { maxCount: options.limit } : {}), ...(source ? { source } : {}), ...(alsoFile ? { alsoFile } : {}) })) {
    const { entry } = change;
    // A PR merge carries the Baton commit's trailers on its second parent.
    const message = entry.parents.length > 1 && entry.parents[1] ? await git.message(entry.parents[1]) : `${entry.subject}\n\n${entry.body}`;
    const pr = pullNumberFromSubject(entry.subject) === undefined && options.github
      ? (await options.github.pullsForCommit(entry.sha).catch(() => []))[0] : undefined;
    out.push(historyEntry(change, message, pr));
  }
  return out;
}
