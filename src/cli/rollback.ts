import type { Command } from "commander";
import { z } from "zod";
import { rollback } from "../promote/rollback.js";
import { unreject } from "../promote/unreject.js";
import { shortDigest } from "../config/image-ref.js";
import { commonOptions, printJson } from "./output.js";
import { addCommonFlags, GitHubFlagsSchema, githubFactory, parseFlags, progressFor } from "./promotion-options.js";

const RollbackFlags = GitHubFlagsSchema.extend({
  to: z.string().regex(/^[\w./^~-]+$/, "--to must be a git revision").optional(),
  steps: z.coerce.number().int("--steps must be a whole number").min(1, "--steps must be at least 1").max(50, "--steps must be at most 50").optional(),
  push: z.boolean().default(false),
}).refine((f) => !(f.to && f.steps), { message: "use either --to or --steps, not both", path: ["to"] });

export function registerRollback(program: Command): void {
  addCommonFlags(program
    .command("rollback")
    .description("revert an environment's latest promotion(s) with git revert, as a PR labelled rollback (or --push), and reject the reverted digests")
    .argument("<environment>", "environment, stage (every target, one commit) or target name from baton.yaml")
    .option("--to <revision>", "revert every promotion after this revision")
    .option("--steps <n>", "revert the last N promotions (default 1)")
    .option("--push", "push straight to the base branch (needs allowDirectPush)"))
    .action(async (env: string, raw: Record<string, unknown>) => {
      const opts = commonOptions(raw);
      const flags = parseFlags(RollbackFlags, raw);
      const result = await rollback({
        repo: opts.repo, env, push: flags.push, dryRun: flags.dryRun,
        ...(flags.to ? { to: flags.to } : {}), ...(flags.steps ? { steps: flags.steps } : {}),
        github: githubFactory(flags), progress: progressFor(opts.output),
      });
      if (opts.output === "json") {
        printJson({ ok: true, ...result });
        return;
      }
      for (const r of result.reverted) console.log(`revert ${r.sha.slice(0, 7)} ${r.subject}`);
      for (const r of result.rejected) console.log(`reject ${r.repository}@sha256:${shortDigest(r.digest)} in ${r.env}`);
      if (result.action === "dry-run") console.log(`\n${result.diff}\nwould ${flags.push ? "push" : "open a pull request"}: ${result.title}`);
      else if (result.action === "pushed") console.log(`pushed ${result.commit?.slice(0, 7)}: ${result.title}`);
      else console.log(`${result.action} pull request #${result.pull?.number}: ${result.pull?.url}`);
    });

  addCommonFlags(program
    .command("unreject")
    .description("allow a rolled-back digest to be promoted into an environment again")
    .argument("<environment>", "environment name from baton.yaml")
    .argument("<image>", "<repo>@sha256:<digest> as listed in .baton/rejected.yaml")
    .option("--push", "push the commit to the base branch"), { github: false })
    .action(async (env: string, image: string, raw: Record<string, unknown>) => {
      const opts = commonOptions(raw);
      const flags = parseFlags(z.object({ push: z.boolean().default(false), dryRun: z.boolean().default(false) }), raw);
      const result = await unreject({ repo: opts.repo, env, image, push: flags.push, dryRun: flags.dryRun, progress: progressFor(opts.output) });
      if (opts.output === "json") printJson({ ok: true, ...result });
      else console.log(`${result.action === "dry-run" ? "would unreject" : `${result.action} unreject of`} ${result.repository}@sha256:${shortDigest(result.digest)} in ${env}${result.action === "committed" ? " (push it, or rerun with --push)" : ""}`);
    });
}
