/** Builds the GitHubApi for a clone from flags and the environment (GITHUB_TOKEN, GITHUB_API_URL). */
import { BatonError } from "../errors.js";
import type { GitHubApi } from "./api.js";
import { readFileSync } from "node:fs";
import { registerSecret } from "../util/secrets.js";
import { OctokitGitHub, writeIntervalFromEnv, type GitHubAppCredentials } from "./octokit.js";
import { parseRepoId, repoIdFromRemote } from "./remote.js";

export interface GitHubConnectOptions {
  /** `--github-url`, else GITHUB_API_URL. */
  url?: string;
  /** `--github-repo owner/name`, else derived from the origin remote. */
  repo?: string;
  remoteUrl?: string;
  env?: NodeJS.ProcessEnv;
  /** Told when a rate limit is being waited out. */
  onRateLimit?: (message: string) => void;
}

/**
 * GitHub App credentials from GITHUB_APP_ID, GITHUB_APP_INSTALLATION_ID and GITHUB_APP_PRIVATE_KEY (PEM)
 * or GITHUB_APP_PRIVATE_KEY_FILE; undefined when GITHUB_APP_ID is not set.
 */
export function appCredentials(env: NodeJS.ProcessEnv): GitHubAppCredentials | undefined {
  if (!env.GITHUB_APP_ID) return undefined;
  const appId = Number(env.GITHUB_APP_ID);
  const installationId = Number(env.GITHUB_APP_INSTALLATION_ID);
  const privateKey = env.GITHUB_APP_PRIVATE_KEY ?? (env.GITHUB_APP_PRIVATE_KEY_FILE ? readFileSync(env.GITHUB_APP_PRIVATE_KEY_FILE, "utf8") : undefined);
  if (!Number.isInteger(appId) || !Number.isInteger(installationId) || !privateKey?.includes("PRIVATE KEY")) {
    throw new BatonError("USAGE", "incomplete GitHub App credentials", {
      field: "GITHUB_APP_ID", hint: "set GITHUB_APP_ID, GITHUB_APP_INSTALLATION_ID (numbers) and GITHUB_APP_PRIVATE_KEY or GITHUB_APP_PRIVATE_KEY_FILE (PEM)",
    });
  }
  return { appId, installationId, privateKey };
}

/** Undefined when there is neither a token nor a GitHub App (callers that can do without GitHub skip silently). */
export function tryConnectGitHub(options: GitHubConnectOptions): GitHubApi | undefined {
  const env = options.env ?? process.env;
  const token = env.GITHUB_TOKEN;
  const app = appCredentials(env);
  registerSecret(token);
  registerSecret(app?.privateKey);
  if (!token && !app) return undefined;
  const repo = options.repo ? parseRepoId(options.repo) : options.remoteUrl ? repoIdFromRemote(options.remoteUrl) : undefined;
  if (!repo) throw new BatonError("USAGE", "cannot tell which GitHub repository to use", { field: "--github-repo", hint: "add an origin remote or pass --github-repo owner/name" });
  const baseUrl = options.url ?? env.GITHUB_API_URL;
  return new OctokitGitHub({ ...(app ? { app } : { token: token as string }), repo, ...(baseUrl ? { baseUrl } : {}), writeIntervalMs: writeIntervalFromEnv(env), ...(options.onRateLimit ? { onRateLimit: options.onRateLimit } : {}) });
}

export function connectGitHub(options: GitHubConnectOptions): GitHubApi {
  const api = tryConnectGitHub(options);
  if (!api) throw new BatonError("GITHUB_TOKEN_MISSING", "opening a pull request needs a GitHub token", { hint: "set GITHUB_TOKEN (a token with contents and pull-requests write) or GitHub App credentials (GITHUB_APP_ID…), or use --dry-run" });
  return api;
}
