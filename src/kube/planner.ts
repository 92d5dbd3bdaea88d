/**
 * The one planner behind the agent and `baton diff`: render an environment as the agent does (folder,
 * pins and release slots via renderForApply; API discovery decides the scope of custom kinds; the
 * Environment's targetNamespace is the default namespace), label the objects for their owner, read what
 * is live, and plan against the inventory of the last apply (content hashes catch what git changed,
 * field comparison catches drift).
 */
import type { RenderedObject } from "../config/objects.js";
import type { PipelineEnvironment } from "../config/pipeline.js";
import { renderForApply, type ApplyRender } from "../release/render.js";
import type { KubeClient } from "./client.js";
import { desiredObjects } from "./desired.js";
import type { InventoryEntry } from "./inventory.js";
import type { ResourceManager } from "./manager.js";
import { planChanges, type Plan } from "./plan.js";

export interface PlanTarget {
  /** The Environment object's name: objects carry it as their owner label, live objects are found by it. */
  owner: string;
  targetNamespace?: string;
  /** The Environment's inventory (status.inventory.entries); empty when unknown. */
  previous: InventoryEntry[];
}

export async function renderForCluster(client: KubeClient, repoDir: string, env: PipelineEnvironment, options: { targetNamespace?: string; envIndex?: number } = {}): Promise<ApplyRender> {
  await client.discover();
  return renderForApply(repoDir, env, {
    clusterScoped: (kind, group) => client.isClusterScoped(kind, group),
    ...(options.targetNamespace ? { defaultNamespace: options.targetNamespace } : {}),
    ...(options.envIndex === undefined ? {} : { envIndex: options.envIndex }),
  });
}

export async function planAgainstCluster(manager: ResourceManager, objects: RenderedObject[], target: PlanTarget): Promise<{ desired: RenderedObject[]; plan: Plan }> {
  const desired = desiredObjects(objects, target.owner);
  const live = await manager.fetchLive(target.owner, desired.map((d) => d.id));
  return { desired, plan: planChanges(desired, live, target.previous) };
}
