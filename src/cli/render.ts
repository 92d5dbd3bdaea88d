import type { Command } from "commander";
import { findEnvironment, loadPipeline, type PipelineEnvironment } from "../config/pipeline.js";
import { toPortableYaml } from "../config/yaml-out.js";
import { maskSecret } from "../kube/mask.js";
import { renderForApply, type ReleaseRender } from "../release/render.js";
import { describeRelease } from "../release/describe.js";
import type { KubeObject } from "../config/objects.js";
import { commonOptions, printJson } from "./output.js";

/** The YAML stream `baton render` prints; release.yaml is read, never applied, so its state is a comment. */
export function renderText(env: PipelineEnvironment, rendered: ReleaseRender, objects: KubeObject[] = rendered.objects.map((o) => o.object)): string {
  const header = rendered.release ? `${describeRelease(env.strategy, rendered.release.state).map((l) => `# ${l}`).join("\n")}\n` : "";
  return header + objects.map((o) => toPortableYaml(o)).join("---\n");
}

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
      const env = findEnvironment(pipeline, envName);
      const rendered = await renderForApply(opts.repo, env, { envIndex: pipeline.environments.indexOf(env) });
      const objects = rendered.objects.map((o) => (raw.showSecrets ? o.object : maskSecret(o.object)));
      if (opts.output === "json") printJson(objects);
      else process.stdout.write(renderText(env, rendered, objects));
    });
}
