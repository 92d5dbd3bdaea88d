/**
 * The one planner behind the agent and `baton diff`: render an environment as the agent does (folder,
 * pins and release slots via renderForApply; API discovery decides the scope of custom kinds; the
 * Environment's targetNamespace holds every namespaced object), label the objects for their owner, read what
 * is live, decide ownership (ownership.ts), and plan against the inventory of the last apply (content
 * hashes catch what git changed, field comparison catches drift). Ownership conflicts are found here,
 * before anything is written.
 */
import { idKey, objectId, type RenderedObject } from "../config/objects.js";
import type { BatonError } from "../errors.js";
import type { PipelineEnvironment } from "../config/pipeline.js";
import { renderForApply, type ApplyRender } from "../release/render.js";
import type { KubeClient } from "./client.js";
import { desiredObjects } from "./desired.js";
import type { InventoryEntry } from "./inventory.js";
import type { ResourceManager } from "./manager.js";
import { classifyExisting, ownerSelector, ownershipConflicts, type Owner } from "./ownership.js";
import { planChanges, type Plan } from "./plan.js";

export interface PlanTarget {
  /** The Environment object: objects carry its namespace and name as owner labels, live objects are found by them. */
  owner: Owner;
  targetNamespace?: string;
  /** The Environment's inventory (status.inventory.entries); empty when unknown. */
  previous: InventoryEntry[];
}

export async function renderForCluster(client: KubeClient, repoDir: string, env: PipelineEnvironment, options: { targetNamespace?: string; envIndex?: number } = {}): Promise<ApplyRender> {
  await client.discover();
  return renderForApply(repoDir, env, {
    clusterScoped: (kind, group) => client.isClusterScoped(kind, group),
    ...(options.targetNamespace ? { targetNamespace: options.targetNamespace } : {}),
    ...(options.envIndex === undefined ? {} : { envIndex: options.envIndex }),
  });
}

/**
 * `conflicts`: desired objects that exist and belong to someone else (another Environment, Helm, another
 * field manager) without git adopting them; the caller must not apply anything while there are any.
 */
export async function planAgainstCluster(manager: ResourceManager, objects: RenderedObject[], target: PlanTarget): Promise<{ desired: RenderedObject[]; plan: Plan; conflicts: BatonError[] }> {
  const desired = desiredObjects(objects, target.owner);
  const inventory = new Set(target.previous.map((e) => e.id));
  // Labelled objects first (steady state: nothing else to read); then, only for desired objects not found
  // that way, one metadata LIST per (kind, namespace) to find objects that exist under another owner.
  const labelled = classifyExisting(target.owner, desired, inventory, await manager.listExisting(desired.map((d) => d.id), { labelSelector: ownerSelector(target.owner) }));
  const live = new Map(labelled.live);
  const foreign = new Map(labelled.foreign);
  const unseen = desired.filter((d) => !live.has(idKey(d.id)) && !foreign.has(idKey(d.id)));
  if (unseen.length > 0) {
    const others = classifyExisting(target.owner, unseen, inventory, await manager.findMetadata(unseen.map((d) => d.id)));
    for (const [key, o] of others.foreign) foreign.set(key, o);
    // Rare (a label removed by hand, an adoption): the plan compares whole objects, so read them whole.
    const taken = [...others.live.keys()].map((key) => (unseen.find((d) => idKey(d.id) === key) as RenderedObject).id);
    for (const o of await manager.getAll(taken)) live.set(idKey(objectId(o)), o);
  }
  return { desired, plan: planChanges(desired, live, target.previous), conflicts: ownershipConflicts(desired, foreign) };
}
