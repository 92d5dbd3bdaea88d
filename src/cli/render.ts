import type { Command } from "commander";
import { stringify } from "yaml";
import { findEnvironment, loadPipeline } from "../config/pipeline.js";
import { renderEnvironment } from "../config/render.js";
import { commonOptions, printJson } from "./output.js";

export function registerRender(program: Command): void {
  program
    .command("render")
    .description("print an environment's rendered objects as a YAML stream (what the agent applies)")
    .argument("<environment>", "environment name from baton.yaml")
    .option("--repo <dir>", "config repo checkout", ".")
    .option("-o, --output <format>", "text (YAML) or json", "text")
    .action(async (envName: string, raw: { repo?: string; output?: string }) => {
      const opts = commonOptions(raw);
      const pipeline = await loadPipeline(opts.repo);
      const rendered = await renderEnvironment(opts.repo, findEnvironment(pipeline, envName));
      if (opts.output === "json") printJson(rendered.objects.map((o) => o.object));
      else process.stdout.write(rendered.objects.map((o) => stringify(o.object, { lineWidth: 0 })).join("---\n"));
    });
}
