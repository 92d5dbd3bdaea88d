/**
 * `baton history <env>`: what landed in the environment, from `git log --first-parent` of its folder on the
 * base branch: when, which commit, who (for a merge: who merged), which PR, which digests. Digests come from
 * Baton's trailers when present, else from the pins in the environment's files at that commit.
 */
import { findPinSites, type SourceFile } from "../config/edit.js";
import { findEnvironment, loadPipeline } from "../config/pipeline.js";
import { GitWorkspace, type LogEntry } from "./git-workspace.js";
import { pullNumberFromSubject } from "./naming.js";
import { parseBatonCommit } from "./trailers.js";

export interface HistoryEntry {
  time: string;
  commit: string;
  author: string;
  subject: string;
  kind: "promotion" | "pin" | "rollback" | "merge" | "commit";
  from?: string;
  pr?: number;
  digests: Array<{ repository: string; digest: string }>;
  /** Where `digests` came from. */
  digestSource: "trailers" | "files";
}

/** Pure: one history row from a log entry, the message carrying the trailers, and the pins at that commit. */
export function historyEntry(entry: LogEntry, trailerMessage: string, pinsAtCommit: () => Array<{ repository: string; digest: string }>): HistoryEntry {
  const parsed = parseBatonCommit(trailerMessage);
  const isMerge = entry.parents.length > 1;
  const out: HistoryEntry = {
    time: entry.date, commit: entry.sha, author: entry.author, subject: entry.subject,
    kind: parsed.kind ?? (isMerge ? "merge" : "commit"),
    digests: parsed.images.length > 0 ? parsed.images : pinsAtCommit(),
    digestSource: parsed.images.length > 0 ? "trailers" : "files",
  };
  if (parsed.from) out.from = parsed.from;
  const pr = pullNumberFromSubject(entry.subject);
  if (pr !== undefined) out.pr = pr;
  return out;
}

/** Every pinned image in the given files, one digest per repository. Pure. */
export function pinsInFiles(files: SourceFile[]): Array<{ repository: string; digest: string }> {
  const byRepo = new Map<string, string>();
  for (const site of findPinSites(files)) if (site.current.digest && !byRepo.has(site.repository)) byRepo.set(site.repository, site.current.digest);
  return [...byRepo].map(([repository, digest]) => ({ repository, digest })).sort((a, b) => a.repository.localeCompare(b.repository));
}

export async function history(repo: string, envName: string, options: { limit?: number } = {}): Promise<HistoryEntry[]> {
  const env = findEnvironment(await loadPipeline(repo), envName);
  const ws = await GitWorkspace.open(repo);
  const log = await ws.log([env.path], { firstParent: true, ...(options.limit ? { maxCount: options.limit } : {}) });
  const out: HistoryEntry[] = [];
  for (const entry of log) {
    // A PR merge carries the promotion commit's trailers on its second parent.
    const message = entry.parents.length > 1 && entry.parents[1] ? await ws.message(entry.parents[1]) : `${entry.subject}\n\n${entry.body}`;
    const files: SourceFile[] = [];
    if (parseBatonCommit(message).images.length === 0) {
      for (const file of (await ws.listFiles(entry.sha, env.path)).filter((f) => /\.ya?ml$/.test(f))) {
        const text = await ws.show(entry.sha, file);
        if (text !== undefined) files.push({ path: file, text });
      }
    }
    out.push(historyEntry(entry, message, () => pinsInFiles(files)));
  }
  return out;
}
