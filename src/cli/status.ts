import type { Command } from "commander";
import { status } from "../promote/status.js";
import { imageShortName, shortDigest } from "../config/image-ref.js";
import { GitWorkspace } from "../promote/git-workspace.js";
import { commonOptions, printJson, table } from "./output.js";
import { addCommonFlags, GitHubFlagsSchema, optionalGitHub, parseFlags } from "./promotion-options.js";

export function registerStatus(program: Command): void {
  addCommonFlags(program
    .command("status")
    .description("environment × image → digest and tag from the repo, plus open promotion PRs when GITHUB_TOKEN is set"), { dryRun: false })
    .action(async (raw: Record<string, unknown>) => {
      const opts = commonOptions(raw);
      const flags = parseFlags(GitHubFlagsSchema, raw);
      const report = await status(opts.repo, async () => {
        const remote = await GitWorkspace.open(opts.repo).then((ws) => ws.remoteUrl()).catch(() => undefined);
        return optionalGitHub(flags, remote);
      });
      if (opts.output === "json") {
        printJson({ ok: true, ...report });
        return;
      }
      const rows = report.environments.flatMap((env) => {
        const prs = env.openPulls.map((p) => `#${p.number}`).join(",") || "-";
        if (env.error) return [[env.name, "-", "-", "-", prs, `error: ${env.error}`]];
        if (env.images.length === 0) return [[env.name, "-", "-", "-", prs, ""]];
        return env.images.map((i) => [env.name, imageShortName(i.repository), shortDigest(i.digest), i.tag ?? "-", prs, i.rejected ? "REJECTED digest" : ""]);
      });
      console.log(table(["ENVIRONMENT", "IMAGE", "DIGEST", "TAG", "OPEN PRS", "NOTE"], rows));
      if (report.github === "failed") console.error(`warning: could not list open PRs: ${report.githubError}`);
    });
}
