import type { Command } from "commander";
import { z } from "zod";
import { shortDigest } from "../config/image-ref.js";
import { changeRelease, type ReleaseAction } from "../promote/release.js";
import { commonOptions, printJson } from "./output.js";
import { addCommonFlags, GitHubFlagsSchema, githubFactory, parseFlags, progressFor } from "./promotion-options.js";

const ReleaseFlags = GitHubFlagsSchema.extend({ push: z.boolean().default(false), all: z.boolean().default(false) });

function registerOne(program: Command, action: ReleaseAction, description: string, extra: (cmd: Command) => Command = (c) => c): void {
  addCommonFlags(extra(program
    .command(action)
    .description(description)
    .argument("<environment>", "environment name from baton.yaml")
    .option("--push", "push straight to the base branch (needs allowDirectPush)")))
    .action(async (env: string, raw: Record<string, unknown>) => {
      const opts = commonOptions(raw);
      const flags = parseFlags(ReleaseFlags, raw);
      const result = await changeRelease({ repo: opts.repo, env, action, all: flags.all, push: flags.push, dryRun: flags.dryRun, github: githubFactory(flags), progress: progressFor(opts.output) });
      if (opts.output === "json") {
        printJson({ ok: true, ...result });
        return;
      }
      for (const r of result.rejected) console.log(`reject ${r.repository}@sha256:${shortDigest(r.digest)} in ${env}`);
      if (result.action === "dry-run") console.log(`\n${result.diff}\nwould ${flags.push ? "push" : "open a pull request"}: ${result.title}`);
      else if (result.action === "pushed") console.log(`pushed ${result.commit?.slice(0, 7)}: ${result.title}`);
      else console.log(`${result.action} pull request #${result.pull?.number}: ${result.pull?.url}`);
    });
}

export function registerReleaseCommands(program: Command): void {
  registerOne(program, "confirm", "move an environment's release to its next step (blue-green: all traffic to the new version) by a commit to release.yaml, as a PR (or --push)",
    (cmd) => cmd.option("--all", "skip the remaining steps: the candidate becomes stable"));
  registerOne(program, "abort", "end an environment's release: the stable digests return in the folder, release.yaml ends the release and the candidate's digests are rejected, as a PR (or --push)");
}
