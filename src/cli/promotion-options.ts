/** Flags shared by the promotion commands: GitHub connection, --dry-run, progress on stderr. */
import type { Command } from "commander";
import { z } from "zod";
import { BatonError } from "../errors.js";
import { connectGitHub, tryConnectGitHub } from "../github/connect.js";
import type { GitHubApi } from "../github/api.js";
import type { OutputFormat } from "./output.js";

export const GitHubFlagsSchema = z.object({
  githubUrl: z.string().url("--github-url must be a URL, e.g. https://ghe.example.com/api/v3").optional(),
  githubRepo: z.string().regex(/^[\w.-]+\/[\w.-]+$/, "--github-repo must be owner/name").optional(),
  dryRun: z.boolean().default(false),
});
export type GitHubFlags = z.infer<typeof GitHubFlagsSchema>;

export function addCommonFlags(cmd: Command, options: { dryRun?: boolean; github?: boolean } = {}): Command {
  cmd.option("--repo <dir>", "config repo clone", ".").option("-o, --output <format>", "text or json", "text");
  if (options.dryRun !== false) cmd.option("--dry-run", "print the diff and the PR that would be opened; no network, no token");
  if (options.github !== false) {
    cmd.option("--github-url <url>", "GitHub API URL for Enterprise (default GITHUB_API_URL or api.github.com)")
      .option("--github-repo <owner/name>", "GitHub repository (default: from the origin remote)");
  }
  return cmd;
}

export function githubFactory(flags: GitHubFlags): (remoteUrl: string | undefined) => GitHubApi {
  return (remoteUrl) => connectGitHub({ ...(flags.githubUrl ? { url: flags.githubUrl } : {}), ...(flags.githubRepo ? { repo: flags.githubRepo } : {}), ...(remoteUrl ? { remoteUrl } : {}) });
}

export function optionalGitHub(flags: GitHubFlags, remoteUrl: string | undefined): GitHubApi | undefined {
  return tryConnectGitHub({ ...(flags.githubUrl ? { url: flags.githubUrl } : {}), ...(flags.githubRepo ? { repo: flags.githubRepo } : {}), ...(remoteUrl ? { remoteUrl } : {}) });
}

export function progressFor(output: OutputFormat): (message: string) => void {
  return output === "json" ? () => undefined : (message) => process.stderr.write(`baton: ${message}\n`);
}

/** zod at the CLI boundary: the first problem becomes one USAGE line naming the flag. */
export function parseFlags<T extends z.ZodTypeAny>(schema: T, raw: unknown): z.infer<T> {
  const result = schema.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0];
    const field = issue?.path.length ? `--${String(issue.path[0]).replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}` : undefined;
    throw new BatonError("USAGE", issue?.message ?? "invalid flags", { ...(field ? { field } : {}), hint: "see --help" });
  }
  return result.data as z.infer<T>;
}
