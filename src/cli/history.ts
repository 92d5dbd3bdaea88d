import type { Command } from "commander";
import { z } from "zod";
import { history } from "../promote/history.js";
import { imageShortName, shortDigest } from "../config/image-ref.js";
import { commonOptions, printJson, table } from "./output.js";
import { parseFlags } from "./promotion-options.js";

export function registerHistory(program: Command): void {
  program
    .command("history")
    .description("an environment's deployment history from git log of its folder: when, which digests, which PR, who")
    .argument("<environment>", "environment name from baton.yaml")
    .option("--limit <n>", "at most N entries")
    .option("--repo <dir>", "config repo clone", ".")
    .option("-o, --output <format>", "text or json", "text")
    .action(async (env: string, raw: Record<string, unknown>) => {
      const opts = commonOptions(raw);
      const flags = parseFlags(z.object({ limit: z.coerce.number().int().min(1, "--limit must be at least 1").optional() }), raw);
      const entries = await history(opts.repo, env, flags.limit ? { limit: flags.limit } : {});
      if (opts.output === "json") {
        printJson({ ok: true, environment: env, entries });
        return;
      }
      console.log(table(["TIME", "COMMIT", "AUTHOR", "KIND", "PR", "DIGESTS", "SUBJECT"], entries.map((e) => [
        e.time, e.commit.slice(0, 7), e.author, e.kind, e.pr ? `#${e.pr}` : "-",
        e.digests.map((d) => `${imageShortName(d.repository)}@${shortDigest(d.digest)}`).join(",") || "-", e.subject,
      ])));
    });
}
