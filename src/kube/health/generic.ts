import { condition, current, describe, failed, inProgress, staleGeneration, type Health, type LiveObject } from "./types.js";

/**
 * Health of any kind without a rule of its own (custom resources above all), following kstatus's generic
 * conventions (sigs.k8s.io/cli-utils/pkg/kstatus, which Flux's health checks build on):
 * - `status.observedGeneration` older than `metadata.generation`: in progress (the status is about an older spec);
 * - `Stalled=True`: failed: the controller says it cannot make progress. It wins over `Reconciling=True`
 *   so the answer does not depend on the order of the conditions (kstatus takes whichever comes first);
 * - `Reconciling=True`: in progress, even when `Ready=True` is still left from the previous spec;
 * - `Ready=True` for the current generation: healthy; any other `Ready`: in progress, so a controller that
 *   retries after an error (`Ready=False`, `ReconcileError`) gets the Environment's `spec.timeout` to recover
 *   instead of failing on its first attempt; only `Stalled` fails at once;
 * - none of these conditions: healthy. kstatus calls such an object Current, and it must be: a kind that never
 *   reports status (a config-like CR, a settings object) looks exactly like this, and waiting for a condition
 *   that never comes would time every such Environment out. The price: a custom resource whose controller has
 *   not written any status yet counts as healthy at once (Flux kinds, which always report, have a stricter rule).
 */
export function genericHealth(obj: LiveObject): Health {
  const stale = staleGeneration(obj);
  if (stale) return stale;
  if (obj.kind === "CustomResourceDefinition") {
    return condition(obj, "Established")?.status === "True" ? current("established") : inProgress("CRD not established yet");
  }
  const what = `${obj.kind} ${obj.metadata.name}`;
  const stalled = condition(obj, "Stalled");
  if (stalled?.status === "True") return failed(`${what} stalled: ${describe(stalled)}`);
  const reconciling = condition(obj, "Reconciling");
  if (reconciling?.status === "True") return inProgress(`${what} reconciling: ${describe(reconciling)}`);

  const ready = condition(obj, "Ready");
  if (!ready) return current("exists (reports no Ready, Reconciling or Stalled condition)");
  const generation = obj.metadata.generation;
  if (generation !== undefined && ready.observedGeneration !== undefined && ready.observedGeneration < generation) {
    return inProgress(`${what}'s Ready condition is for generation ${ready.observedGeneration}, waiting for ${generation}`);
  }
  if (ready.status === "True") return current(ready.message || "ready");
  return inProgress(`${what} not ready: ${describe(ready)}`);
}
