/** Builds the GitHubApi for a clone from flags and the environment (GITHUB_TOKEN, GITHUB_API_URL). */
import { BatonError } from "../errors.js";
import type { GitHubApi } from "./api.js";
import { OctokitGitHub } from "./octokit.js";
import { parseRepoId, repoIdFromRemote } from "./remote.js";

export interface GitHubConnectOptions {
  /** `--github-url`, else GITHUB_API_URL. */
  url?: string;
  /** `--github-repo owner/name`, else derived from the origin remote. */
  repo?: string;
  remoteUrl?: string;
  env?: NodeJS.ProcessEnv;
}

/** Undefined when there is no token (callers that can do without GitHub skip silently). */
export function tryConnectGitHub(options: GitHubConnectOptions): GitHubApi | undefined {
  const env = options.env ?? process.env;
  const token = env.GITHUB_TOKEN;
  if (!token) return undefined;
  const repo = options.repo ? parseRepoId(options.repo) : options.remoteUrl ? repoIdFromRemote(options.remoteUrl) : undefined;
  if (!repo) throw new BatonError("USAGE", "cannot tell which GitHub repository to use", { field: "--github-repo", hint: "add an origin remote or pass --github-repo owner/name" });
  const baseUrl = options.url ?? env.GITHUB_API_URL;
  return new OctokitGitHub({ token, repo, ...(baseUrl ? { baseUrl } : {}) });
}

export function connectGitHub(options: GitHubConnectOptions): GitHubApi {
  const api = tryConnectGitHub(options);
  if (!api) throw new BatonError("GITHUB_TOKEN_MISSING", "opening a pull request needs a GitHub token", { hint: "set GITHUB_TOKEN (a token with contents and pull-requests write), or use --dry-run" });
  return api;
}
