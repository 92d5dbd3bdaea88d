/**
 * Structured commit messages: a title line plus `Baton-*` trailer lines, so `baton history` (and a human
 * reading `git log`) can recover what a commit promoted without re-rendering anything.
 */

export const TRAILER = {
  promotion: "Baton-Promotion",
  pin: "Baton-Pin",
  rollback: "Baton-Rollback",
  reverts: "Baton-Reverts",
  image: "Baton-Image",
  skipStage: "Baton-Skip-Stage",
  /** A promotion into a stage with targets: the wave it moves. */
  wave: "Baton-Wave",
  /** Progressive delivery: the environment whose release.yaml the commit moves, and how. */
  release: "Baton-Release",
  confirm: "Baton-Confirm",
  abort: "Baton-Abort",
  retire: "Baton-Retire",
} as const;

export type Trailer = [key: string, value: string];

/** Trailers must be single lines; newlines in values (e.g. a --reason) are folded to spaces. */
export function formatCommitMessage(title: string, trailers: Trailer[], body?: string): string {
  const oneLine = (s: string) => s.replace(/\s*[\r\n]+\s*/g, " ").trim();
  const parts = [oneLine(title)];
  if (body && body.trim()) parts.push(body.trim());
  if (trailers.length > 0) parts.push(trailers.map(([k, v]) => `${k}: ${oneLine(v)}`).join("\n"));
  return `${parts.join("\n\n")}\n`;
}

/** Every `Baton-*` trailer line of a message, in order (repeated keys such as Baton-Image are kept). */
export function parseTrailers(message: string): Trailer[] {
  const out: Trailer[] = [];
  for (const line of message.split(/\r?\n/)) {
    const m = /^(Baton-[A-Za-z-]+):\s*(.+?)\s*$/.exec(line);
    if (m?.[1] && m[2]) out.push([m[1], m[2]]);
  }
  return out;
}

/** What a Baton commit did; confirm, abort and retire move a progressive release (release.yaml). */
export type BatonKind = "promotion" | "pin" | "rollback" | "confirm" | "abort" | "retire";

export interface ParsedBatonCommit {
  kind?: BatonKind;
  /** confirm: `step N` or `complete`; abort: `manual` or `auto`; retire: the slot. */
  release?: string;
  from?: string;
  env?: string;
  /** `repository@digest` values of Baton-Image trailers. */
  images: Array<{ repository: string; digest: string }>;
  reverts: string[];
  skipStageReason?: string;
}

export function parseBatonCommit(message: string): ParsedBatonCommit {
  const out: ParsedBatonCommit = { images: [], reverts: [] };
  for (const [key, value] of parseTrailers(message)) {
    if (key === TRAILER.promotion) {
      const m = /^(\S+)\s*->\s*(\S+)$/.exec(value);
      if (m?.[1] && m[2]) Object.assign(out, { kind: "promotion", from: m[1], env: m[2] });
    } else if (key === TRAILER.pin) Object.assign(out, { kind: "pin", env: value });
    else if (key === TRAILER.rollback) Object.assign(out, { kind: "rollback", env: value });
    else if (key === TRAILER.release) out.env = value;
    else if (key === TRAILER.confirm) Object.assign(out, { kind: "confirm", release: value });
    else if (key === TRAILER.abort) Object.assign(out, { kind: "abort", release: value });
    else if (key === TRAILER.retire) Object.assign(out, { kind: "retire", release: value });
    else if (key === TRAILER.reverts) out.reverts.push(value);
    else if (key === TRAILER.skipStage) out.skipStageReason = value;
    else if (key === TRAILER.image) {
      const at = value.lastIndexOf("@");
      if (at > 0) out.images.push({ repository: value.slice(0, at), digest: value.slice(at + 1) });
    }
  }
  return out;
}
