/**
 * The agent's view of the config repo: a shallow, single-branch checkout per Environment, fetched with
 * isomorphic-git over HTTP(S). When the remote head has not moved, one ref-advertisement request is all
 * a reconcile costs. Credentials come from the Environment's Secret and never reach logs or errors.
 */
import * as nodeFs from "node:fs";
import { promises as fs } from "node:fs";
import path from "node:path";
import git from "isomorphic-git";
import http from "isomorphic-git/http/node";
import { BatonError } from "../errors.js";
import { redactUrl } from "../log.js";

export interface GitAuth {
  username?: string;
  password?: string;
  token?: string;
}

export interface FetchResult {
  dir: string;
  revision: string;
  /** False when the remote head was unchanged and nothing was downloaded. */
  fetched: boolean;
}

function onAuth(auth: GitAuth | undefined) {
  if (!auth) return undefined;
  // GitHub and most servers take a token as the basic-auth password with any username.
  return () => ({ username: auth.username ?? (auth.token ? "x-access-token" : ""), password: auth.password ?? auth.token ?? "" });
}

/** The commit the remote branch points at (one request). */
export async function remoteHead(url: string, branch: string, auth?: GitAuth): Promise<string> {
  try {
    const refs = await git.listServerRefs({ http, url, prefix: `refs/heads/${branch}`, ...(auth ? { onAuth: onAuth(auth) } : {}) });
    const ref = refs.find((r) => r.ref === `refs/heads/${branch}`);
    if (!ref) throw new BatonError("GIT_FAILED", `branch "${branch}" not found at ${redactUrl(url)}`, { field: "spec.branch", hint: "check the branch name" });
    return ref.oid;
  } catch (e) {
    if (e instanceof BatonError) throw e;
    throw gitError(e, url);
  }
}

function gitError(e: unknown, url: string): BatonError {
  const message = e instanceof Error ? e.message : String(e);
  const auth = /401|403|auth/i.test(message);
  return new BatonError("GIT_FAILED", `git fetch from ${redactUrl(url)} failed: ${message.replace(/\/\/[^@/\s]*@/g, "//")}`, {
    field: "spec.url",
    hint: auth ? "check the credentials in the Environment's secretRef" : "check that the git server is reachable from the agent; the last applied state stays in place",
    cause: e,
  });
}

/** Brings `dir` to the remote branch head; skips the download when the head is what we already have. */
export async function syncCheckout(url: string, branch: string, dir: string, auth?: GitAuth): Promise<FetchResult> {
  const head = await remoteHead(url, branch, auth);
  const have = await git.resolveRef({ fs: nodeFs, dir, ref: "HEAD" }).catch(() => undefined);
  if (have === head) return { dir, revision: head, fetched: false };
  try {
    if (have === undefined) {
      await fs.rm(dir, { recursive: true, force: true });
      await fs.mkdir(path.dirname(dir), { recursive: true });
      await git.clone({ fs: nodeFs, http, dir, url, ref: branch, singleBranch: true, depth: 1, noTags: true, ...(auth ? { onAuth: onAuth(auth) } : {}) });
    } else {
      await git.fetch({ fs: nodeFs, http, dir, url, ref: branch, singleBranch: true, depth: 1, tags: false, ...(auth ? { onAuth: onAuth(auth) } : {}) });
      await git.checkout({ fs: nodeFs, dir, ref: head, force: true });
    }
  } catch (e) {
    throw gitError(e, url);
  }
  const revision = await git.resolveRef({ fs: nodeFs, dir, ref: "HEAD" });
  return { dir, revision, fetched: true };
}

/** The message of a fetched commit (the checkout is shallow, but its head commit is always there). */
export async function commitMessage(dir: string, oid: string): Promise<string> {
  const { commit } = await git.readCommit({ fs: nodeFs, dir, oid });
  return commit.message;
}
