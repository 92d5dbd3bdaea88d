import type { Command } from "commander";
import { z } from "zod";
import { GitWorkspace } from "../promote/git-workspace.js";
import { findMergeTarget, mergeBatonPull } from "../promote/merge.js";
import { commonOptions, printJson } from "./output.js";
import { addCommonFlags, GitHubFlagsSchema, githubFactory, parseFlags } from "./promotion-options.js";

const MergeFlags = GitHubFlagsSchema.extend({
  method: z.enum(["merge", "squash", "rebase"], { errorMap: () => ({ message: "--method must be merge, squash or rebase" }) }).optional(),
});

export function registerMerge(program: Command): void {
  addCommonFlags(program
    .command("merge")
    .description("merge a promotion or rollback PR through GitHub (branch protection applies) once baton/policy is success; GitHub's refusal is printed as one line naming what is missing")
    .argument("<target>", "PR number, or an environment with one open promotion or rollback PR")
    .option("--method <method>", "merge, squash or rebase (default: the first the repository allows)"), { dryRun: false })
    .action(async (target: string, raw: Record<string, unknown>) => {
      const opts = commonOptions(raw);
      const flags = parseFlags(MergeFlags, raw);
      const github = githubFactory(flags)(await GitWorkspace.open(opts.repo).then((ws) => ws.remoteUrl()).catch(() => undefined));
      const pull = await findMergeTarget(github, target);
      const merged = await mergeBatonPull(github, pull, flags.method ? { method: flags.method } : {});
      if (opts.output === "json") printJson({ ok: true, ...merged });
      else console.log(`merged #${merged.pull} ${merged.title} (${merged.method}) as ${merged.sha.slice(0, 7)}`);
    });
}
