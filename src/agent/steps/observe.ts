/**
 * Side effects that must happen while the run goes on, each reacting to one step's result: the revision
 * being attempted is in the status from the fetch on (so the inventory write before apply carries it),
 * the GitHub Deployment starts when the plan is known (before anything is written), and what apply and
 * prune changed is logged, counted and recorded as Events before the health wait begins (queued: written
 * in order, while the run goes on; see events.ts).
 */
import type { EventRecorder } from "../events.js";
import { envKey, type EnvironmentStatus } from "../environment.js";
import type { Metrics } from "../metrics.js";
import { summarizeChanges } from "./changes.js";
import type { ReconcileOutputs, StepContext } from "./context.js";
import type { RunDeployment } from "./deployment.js";
import type { StepObserver } from "./sequence.js";

export function observeSteps(ctx: StepContext, status: EnvironmentStatus, deployment: RunDeployment, events: EventRecorder, metrics: Metrics): StepObserver<ReconcileOutputs> {
  return async (result, done) => {
    if (!result.ok) return;
    if (result.step === "fetch") status.lastAttemptedRevision = result.value.revision;
    if (result.step === "plan" && done.fetch && done.render) await deployment.start(done.fetch, done.render, result.value);
    if (result.step === "prune" && done.fetch && done.apply) {
      const { env, log } = ctx;
      const revision = done.fetch.revision;
      const changes = [...done.apply.changes, ...result.value.changes];
      for (const c of changes.filter((c) => c.action !== "unchanged" && c.action !== "skipped")) log.info({ revision, object: c.object, action: c.action }, c.message ?? c.action);
      const s = summarizeChanges(changes);
      metrics.objectsApplied.inc({ environment: envKey(env) }, s.applied);
      metrics.objectsPruned.inc({ environment: envKey(env) }, s.deleted.length);
      metrics.driftCorrected.inc({ environment: envKey(env) }, s.driftCorrected);
      if (s.applied > 0) void events.record(env, "Normal", "Applied", `revision ${revision.slice(0, 12)}: ${s.created} created, ${s.configured} configured, ${s.driftCorrected} drift corrected`);
      if (s.deleted.length > 0) void events.record(env, "Normal", "Pruned", `pruned ${s.deleted.join(", ")}`.slice(0, 1000));
      if (s.heldBack.length > 0) {
        log.warn({ revision, action: "prune", objects: s.heldBack }, "prune held back by a guard");
        void events.record(env, "Warning", "PruneSkipped", s.heldBack.join("; ").slice(0, 1000));
      }
      if (s.drifted.length > 0) {
        log.warn({ revision, action: "drift", objects: s.drifted }, "reverted manual changes");
        void events.record(env, "Warning", "DriftCorrected", `reverted manual changes to ${s.drifted.join(", ")}`.slice(0, 1000));
      }
    }
  };
}
