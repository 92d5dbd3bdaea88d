/**
 * Step 4, apply. Before the first object is created, the inventory records it (with no hash yet): a run
 * that fails or is cut short half-way never leaves an object the inventory does not know, so a later
 * prune finds it. Afterwards the inventory holds the desired objects with their hashes, plus the objects
 * the plan prunes until the prune step has deleted them (so a failed prune is retried).
 */
import { inventoryKey, type InventoryEntry } from "../../kube/inventory.js";
import type { Applied, Planned, StepContext } from "./context.js";

export async function applyStep(ctx: StepContext, planned: Planned): Promise<Applied> {
  const { desired, plan } = planned;
  const known = new Set(ctx.previous.map((e) => e.id));
  const creates = desired.filter((d) => !known.has(inventoryKey(d.id)));
  if (creates.length > 0) await ctx.recordInventory([...ctx.previous, ...creates.map((d) => ({ id: inventoryKey(d.id), v: d.id.version }))], { required: true });
  const changes = await ctx.manager.apply(plan);
  const hashes = new Map(plan.objects.map((o) => [inventoryKey(o.desired.id), o.hash]));
  const inventory: InventoryEntry[] = desired.map((d) => ({ id: inventoryKey(d.id), v: d.id.version, h: hashes.get(inventoryKey(d.id)) as string }));
  const pending = new Set(plan.prune.map(inventoryKey));
  await ctx.recordInventory([...inventory, ...ctx.previous.filter((e) => pending.has(e.id))]);
  return { changes, inventory };
}
