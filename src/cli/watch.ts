import type { Command } from "commander";
import { z } from "zod";
import { shortDigest } from "../config/image-ref.js";
import { scrubSecrets } from "../util/secrets.js";
import { defaultDockerConfigPath, dockerConfigCredentials } from "../registry/auth.js";
import { RegistryClient } from "../registry/client.js";
import { watch } from "../promote/watch.js";
import { commonOptions, exitCodeFor, printJson, table } from "./output.js";
import { addCommonFlags, GitHubFlagsSchema, githubFactory, parseFlags, progressFor } from "./promotion-options.js";

const FlagsSchema = GitHubFlagsSchema.extend({ env: z.string().optional(), dockerConfig: z.string().min(1).optional() });

export function registerWatch(program: Command): void {
  addCommonFlags(program
    .command("watch")
    .description("poll the registries named in imageWatch and pin the newest matching digest: one pin PR per environment, or a commit where the pipeline allows (CI; the agent's promoter does the same)")
    .option("--env <name>", "only this environment")
    .option("--docker-config <file>", "registry credentials (default $DOCKER_CONFIG/config.json or ~/.docker/config.json when present)")
    .option("--dry-run", "read the registries and print what would be pinned; no push, no PR, no GitHub token"), { dryRun: false })
    .action(async (raw: Record<string, unknown>) => {
      const opts = commonOptions(raw);
      const flags = parseFlags(FlagsSchema, raw);
      const credentials = await dockerConfigCredentials(flags.dockerConfig ?? defaultDockerConfigPath(), flags.dockerConfig === undefined);
      const results = await watch({
        repo: opts.repo, registry: new RegistryClient({ credentials }), dryRun: flags.dryRun, github: githubFactory(flags), progress: progressFor(opts.output),
        ...(flags.env ? { env: flags.env } : {}),
      });
      const failed = results.filter((r) => r.error);
      if (opts.output === "json") {
        printJson({ ok: failed.length === 0, environments: results.map((r) => ({ ...r, ...(r.error ? { error: r.error.toJSON() } : {}) })) });
      } else {
        console.log(table(["ENV", "IMAGE", "TAG", "FROM", "TO", "RESULT"], results.flatMap((r) => (r.images.length > 0 ? r.images : [{ repository: "-" }]).map((i) => [
          r.env, i.repository, "tag" in i ? i.tag ?? "-" : "-", shortDigest("current" in i ? i.current : undefined), shortDigest("digest" in i ? i.digest : undefined),
          r.error ? `failed: ${r.error.code}` : r.pull ? `${r.action} #${r.pull.number}` : r.commit && r.action === "pushed" ? `pushed ${r.commit.slice(0, 7)}` : r.action,
        ]))));
        for (const r of failed) console.error(scrubSecrets(`\n${r.env}: ${r.error?.oneLine() ?? "failed"}`));
      }
      // Each environment is watched on its own: one failing registry does not hide another environment's result.
      if (failed.length > 0) process.exitCode = exitCodeFor(failed.flatMap((f) => (f.error ? [f.error] : [])));
    });
}
