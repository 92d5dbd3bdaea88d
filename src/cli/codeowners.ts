import type { Command } from "commander";
import { loadPipeline } from "../config/pipeline.js";
import { codeownersBlock } from "../promote/codeowners.js";
import { commonOptions, printJson } from "./output.js";

export function registerCodeowners(program: Command): void {
  program
    .command("codeowners")
    .description("print a CODEOWNERS block from baton.yaml's approvers: one rule per environment folder")
    .option("--repo <dir>", "config repo clone", ".")
    .option("-o, --output <format>", "text or json", "text")
    .action(async (raw: { repo?: string; output?: string }) => {
      const opts = commonOptions(raw);
      const pipeline = await loadPipeline(opts.repo);
      const block = codeownersBlock(pipeline);
      if (opts.output === "json") printJson({ ok: true, codeowners: block, rules: pipeline.environments.filter((e) => e.approvers?.length).map((e) => ({ environment: e.name, path: e.path, owners: e.approvers })) });
      else process.stdout.write(block);
    });
}
