import type { Command } from "commander";
import { z } from "zod";
import { GitWorkspace } from "../promote/git-workspace.js";
import { runPolicy } from "../promote/policy-run.js";
import { commonOptions, printJson, table } from "./output.js";
import { addCommonFlags, githubFactory, GitHubFlagsSchema, parseFlags, progressFor } from "./promotion-options.js";

export function registerPolicy(program: Command): void {
  const cmd = program
    .command("policy")
    .description("re-evaluate open promotion PRs (soak, windows, order, rejected digests) and set their baton/policy commit status; with --auto-promote also open PRs into autoPromote environments")
    .option("--auto-promote", "open promotion PRs into environments with autoPromote: true when their source is healthy and soaked");
  addCommonFlags(cmd, { dryRun: false }).action(async (raw: Record<string, unknown>) => {
    const opts = commonOptions(raw as { repo?: string; output?: string });
    const flags = parseFlags(GitHubFlagsSchema.extend({ autoPromote: z.boolean().default(false) }), raw);
    const ws = await GitWorkspace.open(opts.repo);
    const github = githubFactory(flags)(await ws.remoteUrl());
    const result = await runPolicy({ repo: opts.repo, github, autoPromote: flags.autoPromote, progress: progressFor(opts.output) });
    if (opts.output === "json") printJson({ ok: true, ...result });
    else {
      console.log(result.evaluated.length === 0 ? "no open promotion PRs" : table(["PR", "FROM", "TO", "POLICY", "WHY"], result.evaluated.map((e) => [`#${e.pull}`, e.from ?? "-", e.to, e.state, e.description])));
      for (const a of result.autoPromoted) console.log(`auto-promoted ${a.from} → ${a.to}${a.pull ? ` (#${a.pull})` : ""}`);
      for (const s of result.skipped) console.log(`auto-promotion into ${s.to} waits: ${s.reason}`);
      for (const m of result.merged) console.log(`auto-merged #${m.pull} into ${m.to} (${m.method}) as ${m.sha.slice(0, 7)}`);
      for (const w of result.mergeWaiting) console.log(`auto-merge of #${w.pull} into ${w.to} waits: ${w.reason}`);
    }
  });
}
