/**
 * Reading history without a process per object. `baton history` reads, for every commit that touched an
 * environment, its tree (`git ls-tree`) and any new blob (`git cat-file`): one child process each, which
 * made a 50-environment board take seconds. This reader answers the same three questions in-process with
 * isomorphic-git (already Baton's fetcher in the agent) over the clone's object store, sharing one pack
 * cache, and falls back to the git process for an object it cannot read (a partial clone's promisor
 * fetches it, isomorphic-git cannot).
 */
import * as nodeFs from "node:fs";
import path from "node:path";
import git from "isomorphic-git";
import type { GitWorkspace, LogEntry } from "./git-workspace.js";

/** What history and rollback read from git. GitWorkspace is one (a process per call); objectReader another. */
export interface HistoryGit {
  readonly dir: string;
  log(paths: string[], options?: { ref?: string; firstParent?: boolean }): Promise<LogEntry[]>;
  /** Blobs under `dir` (a folder or a file) at a commit, as `git ls-tree -r` lists them. */
  treeBlobs(sha: string, dir: string): Promise<Array<{ path: string; oid: string }>>;
  blob(oid: string): Promise<string>;
  /** A commit's full message. */
  message(sha: string): Promise<string>;
}

type TreeEntry = { path: string; oid: string; type: string };

/**
 * In-process reads over `ws`'s object store; `log` stays `ws`'s (one process, however many commits).
 * `onFallback` hears of every read the git process had to answer (tests assert there is none).
 */
export async function objectReader(ws: GitWorkspace, options: { onFallback?: (what: string, e: unknown) => void } = {}): Promise<HistoryGit> {
  // The common dir, not `.git`: in a linked worktree `.git` is a file and the objects live in the main clone.
  const gitdir = path.resolve(ws.dir, await ws.gitCommonDir());
  const cache = {};
  const trees = new Map<string, Promise<TreeEntry[]>>();
  const readTree = (oid: string) => {
    if (!trees.has(oid)) trees.set(oid, git.readTree({ fs: nodeFs, gitdir, oid, cache }).then((t) => t.tree));
    return trees.get(oid) as Promise<TreeEntry[]>;
  };
  const blobsUnder = async (tree: string, prefix: string): Promise<Array<{ path: string; oid: string }>> => {
    const out: Array<{ path: string; oid: string }> = [];
    for (const entry of await readTree(tree)) {
      const full = `${prefix}${entry.path}`;
      if (entry.type === "blob") out.push({ path: full, oid: entry.oid });
      else if (entry.type === "tree") out.push(...(await blobsUnder(entry.oid, `${full}/`)));
    }
    return out;
  };
  const treeBlobs = async (sha: string, dir: string): Promise<Array<{ path: string; oid: string }>> => {
    const segments = dir.split("/").filter((s) => s && s !== ".");
    const { commit } = await git.readCommit({ fs: nodeFs, gitdir, oid: sha, cache });
    let oid = commit.tree;
    let type = "tree";
    for (const segment of segments) {
      if (type !== "tree") return [];
      const entry = (await readTree(oid)).find((e) => e.path === segment);
      if (!entry) return [];
      ({ oid, type } = entry);
    }
    if (type === "blob") return [{ path: segments.join("/"), oid }];
    // ls-tree sorts by path bytes; trees list entries in that order already, so a depth-first walk matches.
    return type === "tree" ? blobsUnder(oid, segments.length ? `${segments.join("/")}/` : "") : [];
  };
  const orGit = <A extends unknown[], R>(fast: (...a: A) => Promise<R>, slow: (...a: A) => Promise<R>) => async (...a: A): Promise<R> => {
    try {
      return await fast(...a);
    } catch (e) {
      options.onFallback?.(`${slow.name || "read"} ${a.join(" ")}`, e);
      return slow(...a);
    }
  };
  return {
    dir: ws.dir,
    log: (paths, options) => ws.log(paths, options),
    treeBlobs: orGit(treeBlobs, (sha, dir) => ws.treeBlobs(sha, dir)),
    blob: orGit(async (oid: string) => Buffer.from((await git.readBlob({ fs: nodeFs, gitdir, oid, cache })).blob).toString("utf8"), (oid) => ws.blob(oid)),
    message: orGit(async (sha: string) => (await git.readCommit({ fs: nodeFs, gitdir, oid: sha, cache })).commit.message, (sha) => ws.message(sha)),
  };
}

/** Whether `file` is `spec` or under it, as a `git log -- spec` pathspec matches. */
function underPath(file: string, spec: string): boolean {
  const dir = spec.replace(/\/+$/, "");
  return dir === "" || dir === "." || file === dir || file.startsWith(`${dir}/`);
}

/**
 * One `git log --first-parent` over the paths of many environments, answering each environment's own
 * `log(paths)` by the files every commit changed: N environments cost one process, not N.
 */
export async function sharedLog(reader: HistoryGit, ws: GitWorkspace, allPaths: string[], ref?: string): Promise<HistoryGit> {
  const log = await ws.logWithFiles(allPaths, { firstParent: true, ...(ref ? { ref } : {}) });
  return {
    ...reader,
    log: async (paths, options = {}) => {
      // Anything but the shared walk (another ref, all parents) asks git itself.
      if (options.firstParent !== true || (options.ref ?? ref) !== ref) return reader.log(paths, options);
      return log.filter((entry) => entry.files.some((f) => paths.some((p) => underPath(f, p)))).map(({ files: _files, ...entry }) => entry);
    },
  };
}
