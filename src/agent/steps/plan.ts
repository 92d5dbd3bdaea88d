/**
 * Step 3, plan: the rendered objects against live state and the last inventory. Ownership conflicts and
 * every write or delete the identity may not make (asked of the API server as that identity; allowed
 * answers are reused for 30 s, see kube/access.ts) fail the step, so nothing is applied half-way.
 */
import { BatonErrors } from "../../errors.js";
import { accessProblems } from "../../kube/access.js";
import { describePlan } from "../../kube/plan.js";
import { planAgainstCluster } from "../../kube/planner.js";
import type { Fetched, Planned, Rendered, StepContext } from "./context.js";

export async function planStep(ctx: StepContext, fetched: Fetched, rendered: Rendered): Promise<Planned> {
  const { spec } = ctx;
  const { desired, plan, conflicts } = await planAgainstCluster(ctx.manager, rendered.render.objects, { owner: ctx.owner, previous: ctx.previous, ...(spec.targetNamespace ? { targetNamespace: spec.targetNamespace } : {}) });
  if (conflicts.length > 0) throw new BatonErrors(conflicts);
  ctx.log.info({ revision: fetched.revision, action: "plan" }, describePlan(plan));
  const pruning = spec.prune && rendered.envSpec.prune;
  const denied = await accessProblems(ctx.kube, pruning ? plan : { ...plan, prune: [] }, ctx.concurrency, ctx.accessReviews);
  if (denied.length > 0) throw new BatonErrors(denied);
  const deploys = plan.objects.some((o) => o.action !== "unchanged") || plan.prune.length > 0 || !ctx.env.status?.lastAppliedRevision;
  return { desired, plan, pruning, deploys };
}
