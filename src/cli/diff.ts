import type { Command } from "commander";
import { createTwoFilesPatch } from "diff";
import path from "node:path";
import { simpleGit } from "simple-git";
import { ENV_API_VERSION, ENV_KIND, type EnvironmentObject } from "../agent/environment.js";
import { normalizeRepoUrl } from "../agent/webhook.js";
import { BatonErrors } from "../errors.js";
import { findEnvironment, loadPipeline, type PipelineEnvironment, type Pipeline } from "../config/pipeline.js";
import { formatId } from "../config/objects.js";
import { toPortableYaml } from "../config/yaml-out.js";
import { KubeClient } from "../kube/client.js";
import { loadKubeConfig } from "../kube/kubeconfig.js";
import { ResourceManager } from "../kube/manager.js";
import { maskSecretPair } from "../kube/mask.js";
import { inventoryKey } from "../kube/inventory.js";
import type { KubeObject } from "../config/objects.js";
import { comparable, firstDifference, projectLike, type PlannedObject } from "../kube/plan.js";
import { planAgainstCluster, renderForCluster, type PlanTarget } from "../kube/planner.js";
import { commonOptions, printJson } from "./output.js";

function colorize(patch: string, color: boolean): string {
  if (!color) return patch;
  return patch.split("\n").map((l) => (l.startsWith("+") && !l.startsWith("+++") ? `\x1b[32m${l}\x1b[0m` : l.startsWith("-") && !l.startsWith("---") ? `\x1b[31m${l}\x1b[0m` : l.startsWith("@@") ? `\x1b[36m${l}\x1b[0m` : l)).join("\n");
}

export interface DiffEntry {
  object: string;
  action: "create" | "update" | "drift" | "unchanged";
  patch: string;
}

/**
 * What the agent would change for an environment: the agent's own planner (renderForCluster +
 * planAgainstCluster), with the owner, targetNamespace and inventory of the Environment that deploys it.
 */
export async function planDiff(repo: string, pipeline: Pipeline, env: PipelineEnvironment, client: KubeClient): Promise<{ entries: DiffEntry[]; prune: Array<{ object: string; action: "prune" }> }> {
  const { target, found } = await agentTarget(client, repo, env);
  const rendered = await renderForCluster(client, repo, env, { envIndex: pipeline.environments.indexOf(env), ...(target.targetNamespace ? { targetNamespace: target.targetNamespace } : {}) });
  const { plan, conflicts } = await planAgainstCluster(new ResourceManager(client), rendered.objects, target);
  // The agent would apply nothing: say why, as it would. With a guessed owner (no Environment found)
  // objects of the real one would look foreign, so conflicts are only reported for a known Environment.
  if (found && conflicts.length > 0) throw new BatonErrors(conflicts);
  const entries: DiffEntry[] = [];
  for (const o of plan.objects) {
    const d = o.desired;
    // An object that exists but is not labelled as this environment's yet (adopted, or labelled by hand): an update.
    const current = o.live ?? (await client.get(d.object.apiVersion, d.object.kind, d.object.metadata.namespace, d.object.metadata.name));
    entries.push(diffEntry(o, current, target.previous.some((e) => e.id === inventoryKey(d.id))));
  }
  return { entries, prune: plan.prune.map((id) => ({ object: formatId(id), action: "prune" as const })) };
}

/**
 * One object's diff, pure. Git's side is compared and shown as the API server stores it (`comparable`: a
 * Secret's stringData merged into data, base64), so a stringData Secret that is applied is unchanged; Secret
 * values are masked like kubectl diff masks them: the diff shows which keys change, never their values.
 */
export function diffEntry(planned: PlannedObject, current: KubeObject | undefined, inInventory: boolean): DiffEntry {
  const d = planned.desired;
  const want = comparable(d.object);
  // Without an inventory entry the last apply is unknown: an object already equal to git is unchanged.
  const unknownAndEqual = planned.action === "update" && !inInventory && current !== undefined && !firstDifference(want, current);
  const action = unknownAndEqual ? "unchanged" : planned.action === "create" && current ? "update" : planned.action;
  const [liveShown, wantShown] = maskSecretPair(current ? projectLike(want, current) : undefined, want);
  const before = liveShown ? toPortableYaml(liveShown) : "";
  const patch = action === "unchanged" ? "" : createTwoFilesPatch(`live/${formatId(d.id)}`, `git/${formatId(d.id)}`, before, toPortableYaml(wantShown), "", "", { context: 3 });
  return { object: formatId(d.id), action, patch };
}

/** The objects part of planDiff. */
export async function diffEnvironment(repo: string, pipeline: Pipeline, env: PipelineEnvironment, client: KubeClient): Promise<DiffEntry[]> {
  return (await planDiff(repo, pipeline, env, client)).entries;
}

/**
 * The agent's view of this environment: the Environment object whose spec.path is the environment's
 * folder (and, when several are, whose spec.url is this checkout's origin): its name labels the objects,
 * its targetNamespace places them, its inventory drives hashes and prune. Without one (no CRD, no read
 * access, not deployed yet, or several that match): an Environment named like the environment in
 * baton.yaml, in its namespace (or `default`), with no inventory; `found` is false then.
 */
async function agentTarget(client: KubeClient, repo: string, env: PipelineEnvironment): Promise<{ target: PlanTarget; found: boolean }> {
  // baton.yaml's namespace is a default for objects without one (renderEnvironment applies it), as for the agent.
  const fallback: PlanTarget = { owner: { namespace: env.namespace ?? "default", name: env.name }, previous: [] };
  const items = (await client.list(ENV_API_VERSION, ENV_KIND, undefined).catch(() => [])) as EnvironmentObject[];
  const samePath = items.filter((e) => path.posix.normalize(String((e.spec as { path?: unknown }).path ?? "")) === path.posix.normalize(env.path));
  let match = samePath.length === 1 ? samePath[0] : undefined;
  if (samePath.length > 1) {
    const origin = await simpleGit(repo).remote(["get-url", "origin"]).then((u) => normalizeRepoUrl(String(u)), () => undefined);
    const sameRepo = samePath.filter((e) => origin !== undefined && normalizeRepoUrl(String((e.spec as { url?: unknown }).url ?? "")) === origin);
    match = sameRepo.length === 1 ? sameRepo[0] : undefined;
  }
  if (!match) return { target: fallback, found: false };
  const spec = match.spec as { targetNamespace?: string };
  return { target: { owner: { namespace: match.metadata.namespace ?? "default", name: match.metadata.name }, previous: match.status?.inventory?.entries ?? [], ...(spec.targetNamespace ? { targetNamespace: spec.targetNamespace } : {}) }, found: true };
}

export function registerDiff(program: Command): void {
  program
    .command("diff")
    .description("show what the agent would change in the cluster for an environment, as a unified diff of the YAML")
    .argument("<environment>", "environment name from baton.yaml")
    .option("--repo <dir>", "config repo checkout", ".")
    .option("--kubeconfig <file>", "kubeconfig (default: $KUBECONFIG or ~/.kube/config)")
    .option("--context <name>", "kubeconfig context to use (default: its current-context)")
    .option("--color", "force colored output (default: when stdout is a terminal)")
    .option("-o, --output <format>", "text or json", "text")
    .action(async (envName: string, raw: { repo?: string; output?: string; kubeconfig?: string; context?: string; color?: boolean }) => {
      const opts = commonOptions(raw);
      const pipeline = await loadPipeline(opts.repo);
      const env = findEnvironment(pipeline, envName);
      const client = new KubeClient(loadKubeConfig(raw.kubeconfig, raw.context));
      try {
        const { entries: results, prune } = await planDiff(opts.repo, pipeline, env, client);
        const changed = results.filter((r) => r.action !== "unchanged");
        if (opts.output === "json") printJson({ environment: env.name, changes: changed, prune, unchanged: results.length - changed.length });
        else {
          const color = raw.color ?? process.stdout.isTTY;
          for (const r of changed) process.stdout.write(`${colorize(r.patch, color)}\n`);
          for (const p of prune) console.log(`prune ${p.object}`);
          const count = (a: string) => changed.filter((r) => r.action === a).length;
          console.log(`${env.name}: ${count("create")} to create, ${count("update")} to update, ${count("drift")} drifted, ${results.length - changed.length} unchanged, ${prune.length} to prune`);
        }
        process.exitCode = changed.length + prune.length > 0 ? 1 : 0; // like `kubectl diff`: 1 means differences
      } finally {
        client.close();
      }
    });
}
