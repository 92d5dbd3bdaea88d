/**
 * The console's own clone (the chart's read-only board, or `baton console --clone URL`): cloned once when the
 * folder is empty, then kept current by `--pull` (a fast-forward of its branch, under the clone lock).
 * A token (BATON_GIT_TOKEN) reaches git as an HTTP header through git's GIT_CONFIG_* environment, so it is
 * never written into the clone's .git/config, its remote URL, or a process's argument list.
 */
import { execFile } from "node:child_process";
import { promises as fs } from "node:fs";
import { promisify } from "node:util";
import { BatonError } from "../errors.js";
import { redactUrl } from "../log.js";
import { registerSecret, scrubSecrets } from "../util/secrets.js";

const exec = promisify(execFile);

/** Git's environment for a token: `http.extraHeader: Authorization: Basic …` (username x-access-token, as GitHub takes it). */
export function gitTokenEnvironment(token: string): Record<string, string> {
  const basic = Buffer.from(`x-access-token:${token}`).toString("base64");
  return { GIT_CONFIG_COUNT: "1", GIT_CONFIG_KEY_0: "http.extraHeader", GIT_CONFIG_VALUE_0: `Authorization: Basic ${basic}` };
}

/** Applies the token to every git process this one starts (the clone, the pulls, the board's reads). */
export function useGitToken(token: string | undefined): void {
  if (!token) return;
  const env = gitTokenEnvironment(token);
  registerSecret(token);
  registerSecret(env.GIT_CONFIG_VALUE_0 ?? "");
  Object.assign(process.env, env);
}

/** Clones `url` (branch `branch`) into `dir` unless `dir` already holds a clone; returns whether it cloned. */
export async function ensureClone(url: string, branch: string, dir: string): Promise<boolean> {
  const entries = await fs.readdir(dir).catch(() => undefined);
  if (entries?.includes(".git")) return false;
  if (entries && entries.length > 0) {
    throw new BatonError("USAGE", `${dir} is not empty and not a git clone: --clone needs an empty or missing folder`, { field: "--repo", hint: "point --repo at an empty folder (the chart uses an emptyDir), or drop --clone to use an existing clone" });
  }
  try {
    await exec("git", ["clone", "--quiet", "--branch", branch, "--single-branch", "--", url, dir], { env: process.env });
  } catch (e) {
    const stderr = (e as { stderr?: string }).stderr?.trim().split("\n").at(-1) ?? "";
    throw new BatonError("GIT_FAILED", `cannot clone ${redactUrl(url)} (branch ${branch}): ${scrubSecrets(stderr)}`, { field: "--clone", hint: "check the URL and branch, and BATON_GIT_TOKEN for a private repository" });
  }
  return true;
}
