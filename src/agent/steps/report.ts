/**
 * The report: the one place a run's verdict becomes the Environment's status (conditions, revisions,
 * history, release phase), Events, metrics, notifications and the GitHub Deployment's final state. It
 * reads the step results; it never does the work. Nothing changed (same revision, same conditions, same
 * inventory) means no status write, only a rare heartbeat; an interrupted run writes nothing at all.
 */
import { BatonError } from "../../errors.js";
import { pinsToRecord } from "../../config/pins.js";
import { commitMessage } from "../../git/fetch.js";
import type { ChangeSetEntry } from "../../kube/manager.js";
import { notify } from "../../notify/send.js";
import { changeKind } from "../../promote/naming.js";
import { parseBatonCommit } from "../../promote/trailers.js";
import { describeWeights, releaseEvent, releaseStatus } from "../../release/status.js";
import { waitsForConfirmation } from "../../release/strategy.js";
import { appendHistory, envKey, setCondition, type EnvironmentObject, type EnvironmentStatus } from "../environment.js";
import type { EventRecorder } from "../events.js";
import type { Metrics } from "../metrics.js";
import { statusNeedsWrite } from "../status.js";
import { summarizeChanges } from "./changes.js";
import type { Logger } from "../../log.js";
import type { ReconcileOutputs } from "./context.js";
import type { RunDeployment } from "./deployment.js";
import { STEP_NAMES, type StepName } from "./sequence.js";
import type { FailedAt, Verdict } from "./verdict.js";

export interface ReconcileResult {
  ok: boolean;
  revision?: string;
  changes: ChangeSetEntry[];
  /** Stalled errors need a git change; others are retried with backoff. */
  stalled: boolean;
  /** The health wait was cut short by a newer commit: reconcile again at once. */
  superseded?: boolean;
  /**
   * Leadership was lost or the agent is shutting down: nothing more was written (no status, Event,
   * notification or GitHub Deployment status); the next leader picks the revision up where it stands.
   */
  interrupted?: boolean;
  /** The step (or the spec) that failed or was cut short. */
  failedStep?: FailedAt;
  error?: BatonError;
  /** The Environment as this run last wrote it (absent when it wrote nothing): the agent's newest copy. */
  stored?: EnvironmentObject;
}

export interface Reporter {
  env: EnvironmentObject;
  log: Logger;
  signal?: AbortSignal;
  /** The status this run computes; the steps have already recorded the inventory in it. */
  status: EnvironmentStatus;
  /** spec.timeout (absent when the spec itself did not parse, so no step ran). */
  timeout?: string;
  /** Absent when no step ran. */
  deployment?: RunDeployment;
  events: EventRecorder;
  metrics: Metrics;
  now: () => Date;
  /** Date.now() when the run began. */
  started: number;
  /** The status as last read or written (the baseline "nothing changed" is judged against). */
  stored(): EnvironmentStatus | undefined;
  /** Writes `status`; a failed write is logged, never fails the run. */
  save(): Promise<void>;
  /** Sends notifications (default: src/notify/send.ts; tests record them). */
  notify?: typeof notify;
  /** Reads a commit's message from the checkout (default: git/fetch.ts; tests pass their own). */
  commitMessage?: (dir: string, oid: string) => Promise<string>;
}

type Done = Partial<{ [K in StepName]: ReconcileOutputs[K] }>;

export async function report(r: Reporter, done: Done, v: Verdict): Promise<ReconcileResult> {
  const { env, log } = r;
  const { status } = r;
  const revision = done.fetch?.revision;
  const changes = [...(done.apply?.changes ?? []), ...(done.prune?.changes ?? [])];
  const base = { ...(revision ? { revision } : {}), changes };
  if (revision) status.lastAttemptedRevision = revision;
  if (done.prune && done.render) {
    const { drifted } = summarizeChanges(changes);
    if (drifted.length > 0) status.lastDrift = { detectedAt: r.now().toISOString(), objects: drifted };
    status.pins = pinsToRecord(done.render.render.pins);
  }
  const generation = typeof env.metadata.generation === "number" ? env.metadata.generation : 0;
  const condition = (type: "Ready" | "Reconciling" | "Stalled", state: "True" | "False", reason: string, message: string, t = r.now()) => {
    status.conditions = setCondition(status.conditions, { type, status: state, reason, message, observedGeneration: generation }, t);
  };
  // While the health wait polled, Reconciling was True (Progressing): its lastTransitionTime says so.
  if ((v.kind === "superseded" || v.kind === "settled") && v.waited !== undefined) condition("Reconciling", "True", "Progressing", v.waited);

  switch (v.kind) {
    case "interrupted": {
      const reason = r.signal?.reason;
      log.info({ revision, action: "reconcile", step: v.step, reason: String(reason instanceof Error ? reason.message : reason) }, "reconcile interrupted; nothing more is written");
      return { ok: false, ...base, stalled: false, interrupted: true, failedStep: v.step };
    }
    case "failed": {
      await r.deployment?.finish("failure", v.message);
      const t = r.now();
      condition("Ready", "False", v.readyReason, v.message, t);
      condition("Stalled", v.stalled ? "True" : "False", v.stalled ? v.error.code : "Retrying", v.stalled ? v.message : "", t);
      condition("Reconciling", "False", "Failed", "", t);
      r.metrics.errors.inc({ environment: envKey(env), code: v.error.code });
      log.error({ revision, code: v.error.code, action: "reconcile", step: v.step, err: v.message }, "reconcile failed");
      void r.events.record(env, "Warning", v.stalled ? "Stalled" : "ReconcileFailed", v.message);
      return finish(r, { ok: false, ...base, stalled: v.stalled, failedStep: v.step, error: v.error });
    }
    case "superseded": {
      const rev = revision as string;
      await r.deployment?.finish("inactive", "superseded by a newer commit");
      status.lastAppliedRevision = rev;
      condition("Reconciling", "True", "Superseded", `a newer commit arrived while ${rev.slice(0, 12)} was rolling out`);
      log.info({ revision, action: "health" }, "newer revision arrived; reconciling it now");
      return finish(r, { ok: false, revision: rev, changes, stalled: false, superseded: true });
    }
    case "settled":
      return settled(r, complete(done), v, changes);
  }
}

/** A run that got through every step: health decides Ready, the release phase, history and notifications. */
async function settled(r: Reporter, done: { [K in StepName]: ReconcileOutputs[K] }, v: Extract<Verdict, { kind: "settled" }>, changes: ChangeSetEntry[]): Promise<ReconcileResult> {
  const { env, log } = r;
  const { status } = r;
  const { revision, dir } = done.fetch;
  const { envSpec, notifiers, render } = done.render;
  const { ready, notReady } = v;
  const summary = summarizeChanges(changes);
  const t = r.now();
  const previousHealth = status.health;
  status.health = v.health;
  const generation = typeof env.metadata.generation === "number" ? env.metadata.generation : 0;
  const condition = (type: "Ready" | "Reconciling" | "Stalled", state: "True" | "False", reason: string, message: string) => {
    status.conditions = setCondition(status.conditions, { type, status: state, reason, message, observedGeneration: generation }, t);
  };
  condition("Reconciling", "False", ready ? "Succeeded" : "HealthCheckFailed", "");
  condition("Stalled", "False", "Succeeded", "");
  condition("Ready", ready ? "True" : "False", ready ? "ReconciliationSucceeded" : v.health === "Failed" ? "HealthCheckFailed" : "HealthCheckTimeout",
    ready ? `Applied revision ${revision}${summary.heldBack.length > 0 ? `; prune held back: ${summary.heldBack.join("; ")}` : ""}`.slice(0, 1000) : `health check ${v.health === "Failed" ? "failed" : `timed out after ${r.timeout ?? ""}`}: ${notReady}`.slice(0, 1000));
  status.lastAppliedRevision = revision;
  if (ready) r.metrics.lastApplied.set({ environment: envKey(env) }, Math.floor(t.getTime() / 1000));
  // History and notifications record deployments: revisions that changed this environment's objects
  // (a commit elsewhere in the repo moves lastAppliedRevision but deploys nothing here), or a new result.
  const changedObjects = summary.applied + summary.deleted.length > 0;
  const lastEntry = env.status?.history?.at(-1);
  const newRevision = !lastEntry || (env.status?.lastAppliedRevision !== revision && changedObjects) || lastEntry.result !== (ready ? "Ready" : "Failed");
  // A release waiting for `baton confirm` is healthy but not done: GitHub shows the deployment as pending.
  const release = render.release ? releaseStatus(envSpec.strategy?.type ?? "canary", render.release, env.status?.release, ready, t) : undefined;
  const waiting = ready && render.release?.state.step !== undefined && waitsForConfirmation(render.release.state.step);
  // What is not part of the status goes beside its write, not before it: the GitHub Deployment's state
  // (started now, waited for after the write), and the notifications, sent once the status says what they say.
  const deployed = r.deployment?.finish(!ready ? "failure" : waiting ? "pending" : "success", !ready ? notReady : waiting ? `healthy; ${release?.phase ?? ""}: waits for baton confirm` : "healthy");
  const send = r.notify ?? notify;
  const outbox: Array<() => Promise<void>> = [];
  if (release) {
    status.release = release;
    const event = releaseEvent(env.status?.release?.phase, release.phase);
    if (event) {
      outbox.push(async () => void send(notifiers, { type: event, environment: envSpec.name, summary: `${envSpec.name}: release ${release.phase} (${describeWeights(release)})`, revision, images: status.pins, at: t.toISOString() }, log));
      void r.events.record(env, "Normal", "ReleasePhase", `release ${release.phase} at ${revision.slice(0, 12)} (${describeWeights(release)})`);
    }
  } else {
    // The strategy is gone from baton.yaml: no phase to show (writeStatus sends the removal as null).
    delete status.release;
  }
  if (newRevision) {
    // Fire and forget: a notification outage never delays or fails a deploy.
    // A merged promotion PR that is now live is announced as such, in addition to the deploy result; its
    // commit message is read from the checkout while the status is written.
    const message = ready ? (r.commitMessage ?? commitMessage)(dir, revision).catch(() => "") : Promise.resolve("");
    const pins = status.pins;
    outbox.push(async () => {
      if (isPromotion(await message)) void send(notifiers, { type: "promotion.merged", environment: envSpec.name, summary: `promotion to ${envSpec.name} merged and live at ${revision.slice(0, 12)}`, revision, images: pins, at: t.toISOString() }, log);
    });
    outbox.push(async () => void send(notifiers, { type: ready ? "deploy.succeeded" : "deploy.failed", environment: envSpec.name, summary: ready ? `revision ${revision.slice(0, 12)} is live and healthy` : `revision ${revision.slice(0, 12)} is not healthy: ${notReady}`.slice(0, 300), revision, images: pins, at: t.toISOString() }, log));
    status.history = appendHistory(status.history, { revision, appliedAt: t.toISOString(), result: ready ? "Ready" : "Failed", message: ready ? "healthy" : notReady.slice(0, 300), pins: status.pins });
  }
  if (previousHealth !== v.health) {
    void r.events.record(env, ready ? "Normal" : "Warning", "HealthChanged", ready ? `revision ${revision.slice(0, 12)} is healthy` : `revision ${revision.slice(0, 12)} is not healthy: ${notReady}`);
  }
  log.info({ revision, action: "health", health: v.health, ...(ready ? {} : { waitingFor: notReady.slice(0, 500) }) }, ready ? "environment ready" : "environment not healthy");
  const result = await finish(r, { ok: ready, revision, changes, stalled: false, ...(ready ? {} : { error: new BatonError("HEALTH_TIMEOUT", notReady, { hint: "kubectl describe the objects listed" }) }) });
  await deployed;
  for (const deliver of outbox) await deliver();
  return result;
}

/** Metrics of every concluded run, then the status write when something changed (or the heartbeat is due). */
async function finish(r: Reporter, result: ReconcileResult): Promise<ReconcileResult> {
  const { env } = r;
  r.status.observedGeneration = typeof env.metadata.generation === "number" ? env.metadata.generation : 0;
  const t = r.now();
  const write = statusNeedsWrite(r.stored(), r.status, t);
  r.status.lastReconcileTime = t.toISOString();
  r.metrics.reconcileDuration.observe({ environment: envKey(env) }, (Date.now() - r.started) / 1000);
  r.metrics.reconcileTotal.inc({ environment: envKey(env), result: result.ok ? "success" : "failure" });
  r.metrics.ready.set({ environment: envKey(env) }, result.ok ? 1 : 0);
  if (write) await r.save();
  return result;
}

function complete(done: Done): { [K in StepName]: ReconcileOutputs[K] } {
  const { fetch, trust, render, verify, plan, apply, prune, health } = done;
  if (!fetch || !trust || !render || !verify || !plan || !apply || !prune || !health) throw new Error(`internal: a settled run lacks ${STEP_NAMES.filter((s) => !done[s]).join(", ")}`);
  return { fetch, trust, render, verify, plan, apply, prune, health };
}

/** A promotion landed, however it was merged: trailers, GitHub's merge subject, or a squash subject. */
function isPromotion(message: string): boolean {
  return changeKind(message.split("\n")[0] ?? "", parseBatonCommit(message).kind) === "promotion";
}
