import type { Command } from "commander";
import { z } from "zod";
import { promote, type PromoteResult } from "../promote/promote.js";
import { shortDigest } from "../config/image-ref.js";
import { defaultDockerConfigPath, dockerConfigCredentials } from "../registry/auth.js";
import { RegistryClient } from "../registry/client.js";
import { signatureStatus } from "../promote/signature-status.js";
import { commonOptions, printJson, table } from "./output.js";
import { addCommonFlags, GitHubFlagsSchema, githubFactory, parseFlags, progressFor } from "./promotion-options.js";

const FlagsSchema = GitHubFlagsSchema.extend({
  dockerConfig: z.string().min(1).optional(),
  image: z.array(z.string().min(1)).optional(),
  skipStage: z.boolean().default(false),
  reason: z.string().trim().min(1, "--reason must not be empty").optional(),
  wave: z.coerce.number().int("--wave must be a whole number").min(1, "--wave must be 1 or more").optional(),
});

function printText(r: PromoteResult): void {
  if (r.notPromoted.length > 0) console.log(`not promoted (${r.to} does not use them): ${r.notPromoted.join(", ")}`);
  if (r.action === "noop") {
    console.log(`nothing to promote: ${r.to} already runs what ${r.from} runs${r.notPromoted.length > 0 ? " (of the images it uses)" : ""}`);
    return;
  }
  if (r.wave) console.log(`wave ${r.wave.number} of ${r.wave.of}: ${r.wave.targets.join(", ")}${r.wave.gate ? ` (earlier waves: ${r.wave.gate})` : ""}`);
  console.log(table(["IMAGE", "FROM", "TO", "TAG"], r.changes.map((c) => [c.repository, shortDigest(c.from.digest), shortDigest(c.to.digest), c.to.tag ?? "-"])));
  if (r.action === "dry-run") {
    console.log(`\n${r.diff}\nwould open pull request on branch ${r.branch}:\n  ${r.title}\n\n${r.body}`);
    return;
  }
  console.log(`\n${r.action} pull request #${r.pull?.number}: ${r.pull?.url} (${r.title})`);
  for (const n of r.superseded) console.log(`closed #${n} (superseded)`);
  if (r.policy) console.log(`baton/policy: ${r.policy.state} — ${r.policy.description}`);
  if (r.signatures) {
    const status = signatureStatus(r.signatures);
    console.log(`baton/signature: ${status.state} — ${status.description}`);
  }
}

export function registerPromote(program: Command): void {
  addCommonFlags(program
    .command("promote")
    .description("open (or update) a pull request that makes <to> run the digests <from> runs")
    .argument("<from>", "source environment")
    .argument("<to>", "target environment, stage (its next wave) or one target of a stage")
    .option("--image <name...>", "only these images (repository or short name)")
    .option("--skip-stage", "allow promoting past the pipeline order (needs --reason)")
    .option("--reason <text>", "why the stage is skipped; recorded in the PR and the commit")
    .option("--wave <n>", "into a stage with waves: promote this wave (refused until every earlier wave runs the digests, healthy and soaked)")
    .option("--docker-config <file>", "registry credentials for the signature check when <to> has verify (default $DOCKER_CONFIG/config.json or ~/.docker/config.json when present)"))
    .action(async (from: string, to: string, raw: Record<string, unknown>) => {
      const opts = commonOptions(raw);
      const flags = parseFlags(FlagsSchema, raw);
      const result = await promote({
        // Read only when the target has verify: a promotion without it never touches the docker config.
        registry: async () => new RegistryClient({ credentials: await dockerConfigCredentials(flags.dockerConfig ?? defaultDockerConfigPath(), flags.dockerConfig === undefined) }),
        repo: opts.repo, from, to, dryRun: flags.dryRun, skipStage: flags.skipStage,
        ...(flags.image ? { images: flags.image } : {}), ...(flags.reason ? { reason: flags.reason } : {}), ...(flags.wave ? { wave: flags.wave } : {}),
        github: githubFactory(flags), progress: progressFor(opts.output),
      });
      if (opts.output === "json") printJson({ ok: true, ...result });
      else printText(result);
    });
}
