import type { Command } from "commander";
import { z } from "zod";
import { history } from "../promote/history.js";
import { GitWorkspace } from "../promote/git-workspace.js";
import { imageShortName, shortDigest } from "../config/image-ref.js";
import { isRemoteChart } from "../config/pipeline.js";
import { commonOptions, printJson, table } from "./output.js";
import { addCommonFlags, GitHubFlagsSchema, optionalGitHub, parseFlags } from "./promotion-options.js";

export function registerHistory(program: Command): void {
  addCommonFlags(program
    .command("history")
    .description("an environment's deployment history: the commits that changed its digests (merged, squashed, rebased or edited by hand) and, with a strategy, the release's confirm/abort/retire commits; when, which digests, which PR, who; PR numbers of rebase merges from GitHub when GITHUB_TOKEN is set")
    .argument("<environment>", "environment, stage (all its targets) or target name from baton.yaml")
    .option("--limit <n>", "at most N entries"), { dryRun: false })
    .action(async (env: string, raw: Record<string, unknown>) => {
      const opts = commonOptions(raw);
      const flags = parseFlags(GitHubFlagsSchema.extend({ limit: z.coerce.number().int().min(1, "--limit must be at least 1").optional() }), raw);
      const github = optionalGitHub(flags, await GitWorkspace.open(opts.repo).then((ws) => ws.remoteUrl()).catch(() => undefined));
      const entries = await history(opts.repo, env, { ...(flags.limit ? { limit: flags.limit } : {}), ...(github ? { github } : {}) });
      if (opts.output === "json") {
        printJson({ ok: true, environment: env, entries });
        return;
      }
      const staged = entries.some((e) => e.target);
      console.log(table([...(staged ? ["TARGET"] : []), "TIME", "COMMIT", "AUTHOR", "KIND", "PR", "DIGESTS", "SUBJECT"], entries.map((e) => [
        ...(staged ? [e.target ?? "-"] : []), e.time, e.commit.slice(0, 7), e.author, e.release ? `${e.kind} (${e.release})` : e.kind, e.pr ? `#${e.pr}` : "-",
        e.digests.map((d) => isRemoteChart(d.repository) ? `${imageShortName(d.repository)} (chart) ${d.digest.split("@")[0] ?? ""}@${shortDigest(d.digest.split("@")[1])}` : `${imageShortName(d.repository)}@${shortDigest(d.digest)}`).join(",") || "-", e.subject,
      ])));
    });
}
