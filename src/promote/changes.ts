/**
 * What changed an environment's pins, read from content instead of commit messages: the first-parent
 * commits of the base branch whose files under the environment folder pin different digests than their
 * first parent's. This holds however a change landed — a merge commit, a squash commit whose message lost
 * Baton's trailers, rebased commits with new SHAs, or a person's hand edit — and it is what `history` lists
 * and what `rollback` reverts.
 */
import type { SourceFile } from "../config/edit.js";
import { findPinSites } from "../config/edit.js";
import type { LogEntry } from "./git-workspace.js";
import type { HistoryGit } from "./git-objects.js";
import type { PinSource } from "./rendered-pins.js";

export interface PinnedImage {
  repository: string;
  digest: string;
}

export interface PinDelta {
  repository: string;
  /** Undefined: the image was added. */
  from?: string;
  /** Undefined: the image was removed. */
  to?: string;
}

export interface PinChange {
  entry: LogEntry;
  before: PinnedImage[];
  after: PinnedImage[];
  deltas: PinDelta[];
}

/** Every pinned image in the given files, one digest per repository (the first site wins). Pure. */
export function pinsInFiles(files: SourceFile[]): PinnedImage[] {
  const byRepo = new Map<string, string>();
  for (const site of findPinSites(files)) if (site.current.digest && !byRepo.has(site.repository)) byRepo.set(site.repository, site.current.digest);
  return [...byRepo].map(([repository, digest]) => ({ repository, digest })).sort((a, b) => a.repository.localeCompare(b.repository));
}

/** Per-repository differences between two pin sets. Pure. */
export function diffPins(before: PinnedImage[], after: PinnedImage[]): PinDelta[] {
  const b = new Map(before.map((p) => [p.repository, p.digest]));
  const a = new Map(after.map((p) => [p.repository, p.digest]));
  const out: PinDelta[] = [];
  for (const repository of [...new Set([...b.keys(), ...a.keys()])].sort()) {
    const from = b.get(repository);
    const to = a.get(repository);
    if (from !== to) out.push({ repository, ...(from ? { from } : {}), ...(to ? { to } : {}) });
  }
  return out;
}

const stateKey = (pins: PinnedImage[]): string => pins.map((p) => `${p.repository}@${p.digest}`).join(",");

/**
 * The changes still in effect, newest first — what a rollback may undo. Walking oldest to newest, a change
 * that returns the pins to an earlier state (a rollback, a `git revert`, a hand edit back to the old digest)
 * cancels every change since that state; the commit that first introduced the pins (environment created)
 * is never a candidate. Pure.
 */
export function standingChanges(changesNewestFirst: PinChange[]): PinChange[] {
  const oldestFirst = [...changesNewestFirst].reverse();
  const states: string[] = [stateKey(oldestFirst[0]?.before ?? [])];
  const stack: PinChange[] = [];
  for (const change of oldestFirst) {
    const next = stateKey(change.after);
    const earlier = states.lastIndexOf(next);
    if (earlier >= 0 && earlier < states.length - 1) {
      states.length = earlier + 1;
      stack.length = earlier;
    } else {
      states.push(next);
      stack.push(change);
    }
  }
  return stack.filter((c) => c.before.length > 0).reverse();
}

/**
 * The first-parent commits on `ref` that changed the pins under `envPath`, newest first. Blobs are read
 * once each (most files do not change between commits). With `source` (a kustomize environment, see
 * rendered-pins.ts) the pins are what the environment renders and every path it renders from is watched;
 * a commit whose pins cannot be read is compared through: its change shows against its neighbours. With
 * `alsoFile` (a path in the folder) also the commits that changed only that file are listed, with no deltas.
 */
export async function pinChanges(ws: HistoryGit, envPath: string, options: { ref?: string; maxCount?: number; source?: PinSource; alsoFile?: string } = {}): Promise<PinChange[]> {
  const source = options.source ?? folderPinSource(ws, envPath);
  const log = await ws.log(source.paths, { firstParent: true, ...(options.ref ? { ref: options.ref } : {}) });
  const pinsAt = async (sha: string | undefined): Promise<PinnedImage[] | undefined> => (sha ? source.pinsAt(sha) : []);
  /** The blob of `alsoFile` at a commit (release.yaml: a release's steps move no pin). */
  const alsoAt = async (sha: string | undefined): Promise<string | undefined> => (sha && options.alsoFile ? (await ws.treeBlobs(sha, options.alsoFile))[0]?.oid : undefined);
  const out: PinChange[] = [];
  // Pins before a listed commit are the pins at the next listed one: nothing in between touched the inputs.
  let after = await pinsAt(log[0]?.sha);
  let alsoAfter = await alsoAt(log[0]?.sha);
  for (const [i, entry] of log.entries()) {
    const next = log[i + 1];
    const beforeSha = next ? next.sha : entry.parents[0];
    const before = await pinsAt(beforeSha);
    const alsoBefore = await alsoAt(beforeSha);
    if (before === undefined || after === undefined) {
      after ??= before;
      alsoAfter = alsoBefore;
      continue;
    }
    const deltas = diffPins(before, after);
    if (deltas.length > 0 || alsoBefore !== alsoAfter) out.push({ entry, before, after, deltas });
    if (options.maxCount && out.length >= options.maxCount) break;
    after = before;
    alsoAfter = alsoBefore;
  }
  return out;
}

/** A plain environment's pins: the digests written in the YAML files of its folder. */
function folderPinSource(ws: HistoryGit, envPath: string): PinSource {
  const blobs = new Map<string, string>();
  return {
    paths: [envPath],
    pinsAt: async (sha) => {
      const files: SourceFile[] = [];
      for (const { path, oid } of await ws.treeBlobs(sha, envPath)) {
        if (!/\.ya?ml$/.test(path)) continue;
        if (!blobs.has(oid)) blobs.set(oid, await ws.blob(oid));
        files.push({ path, text: blobs.get(oid) ?? "" });
      }
      return pinsInFiles(files);
    },
  };
}
