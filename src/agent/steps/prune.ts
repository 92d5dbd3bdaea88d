/**
 * Step 5, prune (only after every apply succeeded, and only when spec.prune and the pipeline allow it).
 * A prune a guard held back (a Namespace still in use, a CRD with resources) stays in the inventory and
 * is retried next time.
 */
import { inventoryKey } from "../../kube/inventory.js";
import type { Applied, Planned, Pruned, StepContext } from "./context.js";

export async function pruneStep(ctx: StepContext, planned: Planned, applied: Applied): Promise<Pruned> {
  if (!planned.pruning) return { changes: [] };
  const changes = await ctx.manager.prune(ctx.owner, planned.plan.prune, planned.desired.map((d) => d.id));
  const retained = new Set(changes.filter((c) => c.retain).map((c) => inventoryKey(c.id)));
  await ctx.recordInventory([...applied.inventory, ...ctx.previous.filter((e) => retained.has(e.id))]);
  return { changes };
}
