import type { Command } from "commander";
import { z } from "zod";
import { pin } from "../promote/pin.js";
import { shortDigest } from "../config/image-ref.js";
import { BatonError } from "../errors.js";
import { commonOptions, printJson, table } from "./output.js";
import { addCommonFlags, GitHubFlagsSchema, githubFactory, parseFlags, progressFor } from "./promotion-options.js";

const FlagsSchema = GitHubFlagsSchema.extend({ commit: z.boolean().default(false), pr: z.boolean().default(false) });

export function registerPin(program: Command): void {
  addCommonFlags(program
    .command("pin")
    .description("pin freshly built image digests into an environment (CI): --commit pushes to the base branch, --pr opens a pull request")
    .argument("<environment>", "environment name from baton.yaml")
    .argument("<images...>", "<image>=<repo>@sha256:<digest>")
    .option("--commit", "commit and push straight to the base branch (first environment or allowDirectPush)")
    .option("--pr", "open a pull request instead"))
    .action(async (env: string, images: string[], raw: Record<string, unknown>) => {
      const opts = commonOptions(raw);
      const flags = parseFlags(FlagsSchema, raw);
      if (flags.commit === flags.pr && !flags.dryRun) throw new BatonError("USAGE", "choose one of --commit or --pr", { field: "--commit", hint: "--commit pushes directly; --pr opens a pull request" });
      // --dry-run alone shows what the environment allows: a direct push where allowed, else a pull request.
      const mode = flags.pr ? "pr" : flags.commit ? "commit" : undefined;
      const result = await pin({ repo: opts.repo, env, images, ...(mode ? { mode } : {}), dryRun: flags.dryRun, github: githubFactory(flags), progress: progressFor(opts.output) });
      if (opts.output === "json") {
        printJson({ ok: true, ...result });
        return;
      }
      if (result.action === "noop") {
        console.log(`nothing to pin: ${env} already runs these digests`);
        return;
      }
      console.log(table(["IMAGE", "FROM", "TO"], result.changes.map((c) => [c.repository, shortDigest(c.from.digest), shortDigest(c.to.digest)])));
      if (result.action === "dry-run") console.log(`\n${result.diff}\nwould ${result.branch ? `open a pull request on ${result.branch}` : "commit and push"}: ${result.title}`);
      else if (result.action === "pushed") console.log(`\npushed ${result.commit?.slice(0, 7)}: ${result.title}`);
      else console.log(`\n${result.action} pull request #${result.pull?.number}: ${result.pull?.url}`);
    });
}
