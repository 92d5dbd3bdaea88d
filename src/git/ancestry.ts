/**
 * Whether one commit descends from another, from the objects a (shallow) gitdir holds: the agent fetches
 * depth 1, so the walk says "unknown" where history is missing, and the caller deepens and asks again.
 */
import * as nodeFs from "node:fs";
import git from "isomorphic-git";

export type Reach = "descends" | "diverged" | "unknown";

/**
 * Walks the parents of `head` breadth-first looking for `ancestor`: `descends` when found, `diverged` when
 * every path ended at a root commit without it, `unknown` when a parent is not in the gitdir (the shallow
 * boundary) or `maxCommits` were read.
 */
export async function reaches(gitdir: string, head: string, ancestor: string, maxCommits = 20_000): Promise<Reach> {
  if (head === ancestor) return "descends";
  const queue = [head];
  const seen = new Set(queue);
  let incomplete = false;
  for (let oid = queue.shift(); oid !== undefined; oid = queue.shift()) {
    if (seen.size > maxCommits) return "unknown";
    let parents: string[];
    try {
      parents = (await git.readCommit({ fs: nodeFs, gitdir, oid })).commit.parent;
    } catch (e) {
      if ((e as { code?: unknown }).code !== "NotFoundError") throw e;
      incomplete = true;
      continue;
    }
    for (const parent of parents) {
      if (parent === ancestor) return "descends";
      if (!seen.has(parent)) {
        seen.add(parent);
        queue.push(parent);
      }
    }
  }
  return incomplete ? "unknown" : "diverged";
}
