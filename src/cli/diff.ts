import type { Command } from "commander";
import { createTwoFilesPatch } from "diff";
import { loadKubeConfig } from "../agent/agent.js";
import { findEnvironment, loadPipeline, type EnvironmentSpec, type Pipeline } from "../config/pipeline.js";
import { formatId, idKey } from "../config/objects.js";
import { toPortableYaml } from "../config/yaml-out.js";
import { renderForApply } from "../release/render.js";
import { KubeClient } from "../kube/client.js";
import { desiredObjects } from "../kube/desired.js";
import { ResourceManager } from "../kube/manager.js";
import { maskSecretPair } from "../kube/mask.js";
import { comparable, firstDifference, projectLike } from "../kube/plan.js";
import { commonOptions, printJson } from "./output.js";

function colorize(patch: string, color: boolean): string {
  if (!color) return patch;
  return patch.split("\n").map((l) => (l.startsWith("+") && !l.startsWith("+++") ? `\x1b[32m${l}\x1b[0m` : l.startsWith("-") && !l.startsWith("---") ? `\x1b[31m${l}\x1b[0m` : l.startsWith("@@") ? `\x1b[36m${l}\x1b[0m` : l)).join("\n");
}

export interface DiffEntry {
  object: string;
  action: "create" | "update" | "unchanged";
  patch: string;
}

/** What the agent would change for an environment, object by object (the same render and plan code). */
export async function diffEnvironment(repo: string, pipeline: Pipeline, env: EnvironmentSpec, client: KubeClient): Promise<DiffEntry[]> {
  await client.discover();
  const rendered = await renderForApply(repo, env, { clusterScoped: (k, g) => client.isClusterScoped(k, g), envIndex: pipeline.environments.indexOf(env) });
  const desired = desiredObjects(rendered.objects, env.name);
  const manager = new ResourceManager(client);
  const live = await manager.fetchLive(env.name, desired.map((d) => d.id));
  const results: DiffEntry[] = [];
  for (const d of desired) {
    const current = live.get(idKey(d.id))
      ?? (await client.get(d.object.apiVersion, d.object.kind, d.object.metadata.namespace, d.object.metadata.name));
    const want = comparable(d.object);
    const action = !current ? "create" : firstDifference(want, current) ? "update" : "unchanged";
    // Secret values are masked like kubectl diff masks them: the diff shows which keys change, not their values.
    const [liveShown, wantShown] = maskSecretPair(current ? projectLike(want, current) : undefined, want);
    const before = liveShown ? toPortableYaml(liveShown) : "";
    const patch = action === "unchanged" ? "" : createTwoFilesPatch(`live/${formatId(d.id)}`, `git/${formatId(d.id)}`, before, toPortableYaml(wantShown), "", "", { context: 3 });
    results.push({ object: formatId(d.id), action, patch });
  }
  return results;
}

export function registerDiff(program: Command): void {
  program
    .command("diff")
    .description("show what the agent would change in the cluster for an environment, as a unified diff of the YAML")
    .argument("<environment>", "environment name from baton.yaml")
    .option("--repo <dir>", "config repo checkout", ".")
    .option("--kubeconfig <file>", "kubeconfig (default: $KUBECONFIG or ~/.kube/config)")
    .option("--color", "force colored output (default: when stdout is a terminal)")
    .option("-o, --output <format>", "text or json", "text")
    .action(async (envName: string, raw: { repo?: string; output?: string; kubeconfig?: string; color?: boolean }) => {
      const opts = commonOptions(raw);
      const pipeline = await loadPipeline(opts.repo);
      const env = findEnvironment(pipeline, envName);
      const client = new KubeClient(loadKubeConfig(raw.kubeconfig));
      try {
        const results = await diffEnvironment(opts.repo, pipeline, env, client);
        const changed = results.filter((r) => r.action !== "unchanged");
        if (opts.output === "json") printJson({ environment: env.name, changes: changed, unchanged: results.length - changed.length });
        else {
          const color = raw.color ?? process.stdout.isTTY;
          for (const r of changed) process.stdout.write(`${colorize(r.patch, color)}\n`);
          console.log(`${env.name}: ${changed.filter((r) => r.action === "create").length} to create, ${changed.filter((r) => r.action === "update").length} to update, ${results.length - changed.length} unchanged`);
        }
        process.exitCode = changed.length > 0 ? 1 : 0; // like `kubectl diff`: 1 means differences
      } finally {
        client.close();
      }
    });
}
