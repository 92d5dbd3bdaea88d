/** Which GitHub repository a clone belongs to: from `--github-repo owner/name` or the origin remote URL. */
import { BatonError } from "../errors.js";

export interface RepoId {
  owner: string;
  repo: string;
}

const SEGMENT = /^[A-Za-z0-9_.-]+$/;

export function parseRepoId(text: string): RepoId {
  const [owner, repo, ...rest] = text.split("/");
  if (!owner || !repo || rest.length > 0 || !SEGMENT.test(owner) || !SEGMENT.test(repo)) {
    throw new BatonError("USAGE", `"${text}" is not owner/name`, { field: "--github-repo", hint: "e.g. --github-repo acme/deploy-config" });
  }
  return { owner, repo: repo.replace(/\.git$/, "") };
}

/**
 * https://github.com/o/r(.git), git@github.com:o/r.git, ssh://git@host/o/r.git, and Enterprise or
 * test URLs with a path prefix: the last two path segments are owner and name.
 */
export function repoIdFromRemote(url: string): RepoId {
  const scp = /^[\w.-]+@[\w.-]+:(.+)$/.exec(url);
  let pathPart: string;
  if (scp?.[1]) pathPart = scp[1];
  else {
    try {
      pathPart = new URL(url).pathname;
    } catch {
      pathPart = url;
    }
  }
  const segments = pathPart.replace(/\/+$/, "").split("/").filter(Boolean);
  const repo = segments.pop()?.replace(/\.git$/, "");
  const owner = segments.pop();
  if (!owner || !repo || !SEGMENT.test(owner) || !SEGMENT.test(repo)) {
    throw new BatonError("USAGE", "cannot tell the GitHub repository from the origin remote", { field: "--github-repo", hint: "pass --github-repo owner/name" });
  }
  return { owner, repo };
}
