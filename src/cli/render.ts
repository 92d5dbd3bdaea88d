import type { Command } from "commander";
import { findEnvironment, loadPipeline } from "../config/pipeline.js";
import { renderEnvironment } from "../config/render.js";
import { toPortableYaml } from "../config/yaml-out.js";
import { maskSecret } from "../kube/mask.js";
import { commonOptions, printJson } from "./output.js";

export function registerRender(program: Command): void {
  program
    .command("render")
    .description("print an environment's rendered objects as a YAML stream (what the agent applies)")
    .argument("<environment>", "environment name from baton.yaml")
    .option("--repo <dir>", "config repo checkout", ".")
    .option("-o, --output <format>", "text (YAML) or json", "text")
    .option("--show-secrets", "print Secret data/stringData values (masked as *** by default)")
    .action(async (envName: string, raw: { repo?: string; output?: string; showSecrets?: boolean }) => {
      const opts = commonOptions(raw);
      const pipeline = await loadPipeline(opts.repo);
      const rendered = await renderEnvironment(opts.repo, findEnvironment(pipeline, envName));
      const objects = rendered.objects.map((o) => (raw.showSecrets ? o.object : maskSecret(o.object)));
      if (opts.output === "json") printJson(objects);
      else process.stdout.write(objects.map((o) => toPortableYaml(o)).join("---\n"));
    });
}
