/**
 * One reconcile of one Environment, as named steps: fetch → trust → render → verify → plan → apply → prune → health
 * (src/agent/steps/, one file each), then the report derived from their results (steps/verdict.ts says
 * what the outcome means, steps/report.ts writes status, Events, metrics, notifications). Errors before
 * apply leave the cluster untouched (the last applied state stays in place); the Environment reports them
 * as Stalled (user must fix git) or not Ready (transient, retried).
 */
import { BatonError } from "../errors.js";
import type { Logger } from "../log.js";
import type { GitSources, SourceRef } from "../git/sources.js";
import type { KubeClient } from "../kube/client.js";
import type { AccessReviews } from "../kube/access.js";
import { ResourceManager } from "../kube/manager.js";
import { envKey, parseEnvironmentSpec, type EnvironmentObject, type EnvironmentSpec, type EnvironmentStatus } from "./environment.js";
import type { EventRecorder } from "./events.js";
import type { Metrics } from "./metrics.js";
import { writeStatus } from "./status.js";
import { applyStep } from "./steps/apply.js";
import type { ReconcileOutputs, StepContext } from "./steps/context.js";
import { RunDeployment } from "./steps/deployment.js";
import { fetchStep } from "./steps/fetch.js";
import { healthStep } from "./steps/health.js";
import { observeSteps } from "./steps/observe.js";
import { planStep } from "./steps/plan.js";
import { pruneStep } from "./steps/prune.js";
import { renderStep, type RenderCache } from "./steps/render.js";
import { trustStep } from "./steps/trust.js";
import { verifyStep } from "./steps/verify.js";
import { RegistryClient } from "../registry/client.js";
import { report, type ReconcileResult, type Reporter } from "./steps/report.js";
import { runSteps, type Steps } from "./steps/sequence.js";
import { failureVerdict, verdict } from "./steps/verdict.js";

export type { ReconcileResult } from "./steps/report.js";

export interface ReconcileDeps {
  client: KubeClient;
  log: Logger;
  events: EventRecorder;
  metrics: Metrics;
  /** The agent's shared fetches: one head check, fetch and checkout per repository, branch and credentials. */
  sources: GitSources;
  /** How old a remote head this run may use (0: ask the git server; a webhook push must see its commit). */
  sourceMaxAgeMs?: number;
  /** The run was triggered by a push (see GitSources' expectNewHead). */
  sourceMoved?: boolean;
  /** Told which git source (repository, branch, credentials) the run reads, before it reads it. */
  onSource?: (ref: SourceRef) => void;
  /** Told when the run only waits (for health): the work queue gives its slot to another Environment. */
  onWaiting?: () => void;
  concurrency: number;
  now?: () => Date;
  /** Polling period while waiting for health. */
  healthPollMs?: number;
  signal?: AbortSignal;
  /** Accept http:// config repo URLs (`--allow-insecure-http`). */
  allowInsecureHttp?: boolean;
  /** Agent-wide tenancy guards (flags): `--no-cross-namespace-objects`, `--default-service-account`. */
  tenancy?: { noCrossNamespaceObjects: boolean; defaultServiceAccount?: string };
  /** Registry access for image signature checks (`verify` in baton.yaml); default: anonymous. */
  registry?: RegistryClient;
  /** Deadline and size cap of each git operation (the signal above is added to them). */
  git?: { timeoutMs?: number; maxBytes?: number };
  /** Each Environment's last render, reused by runs of the same revision (the controller keeps it). */
  renders?: RenderCache;
  /** The agent's allowed access reviews, reused for a short while (src/kube/access.ts says why that is safe). */
  accessReviews?: AccessReviews;
}

export async function reconcileEnvironment(deps: ReconcileDeps, env: EnvironmentObject): Promise<ReconcileResult> {
  const log = deps.log.child({ env: envKey(env) });
  const status: EnvironmentStatus = { ...env.status };
  // Status writes carry the resourceVersion of the last version this reconcile read or wrote.
  let base = env;
  const writeRunStatus = async (required: boolean): Promise<void> => {
    const written = await writeStatus(deps.client, base, status);
    if (written.result === "written") base = written.env;
    else if (required) throw new BatonError("KUBE_FAILED", `the Environment's status changed while reconciling (${written.result}); nothing was applied`, { hint: "retried at once; another replica may have reconciled it" });
    else if (written.result === "stale") log.warn({ action: "status" }, "the status changed while reconciling (another replica?); this result was not written");
  };

  const reporter: Reporter = {
    env, log, status, events: deps.events, metrics: deps.metrics, now: deps.now ?? (() => new Date()), started: Date.now(),
    ...(deps.signal ? { signal: deps.signal } : {}),
    stored: () => base.status,
    save: () => writeRunStatus(false).catch((e: unknown) => {
      log.warn({ err: e instanceof Error ? e.message : String(e) }, "could not update Environment status");
    }),
  };
  let spec: EnvironmentSpec;
  try {
    spec = parseEnvironmentSpec(env);
  } catch (e) {
    const result = await report(reporter, {}, failureVerdict("spec", e, deps.signal?.aborted ?? false));
    return base === env ? result : { ...result, stored: base };
  }
  const ctx = stepContext(deps, env, spec, log, async (entries, options) => {
    status.inventory = { entries };
    if (options?.required) await writeRunStatus(true);
  });
  const deployment = new RunDeployment(ctx);
  const steps: Steps<ReconcileOutputs> = {
    fetch: () => fetchStep(ctx),
    trust: ({ fetch }) => trustStep(ctx, fetch),
    render: ({ fetch }) => renderStep(ctx, fetch),
    verify: ({ fetch, render }) => verifyStep(ctx, fetch, render),
    plan: ({ fetch, render }) => planStep(ctx, fetch, render),
    apply: ({ plan }) => applyStep(ctx, plan),
    prune: ({ plan, apply }) => pruneStep(ctx, plan, apply),
    health: ({ fetch, plan }) => healthStep(ctx, fetch, plan),
  };
  // Where a run's time goes (debug log "reconcile timings"): each step with what reacts to it, then the report.
  const ms: Record<string, number> = {};
  const startedAt = performance.now();
  let mark = startedAt;
  const observer = observeSteps(ctx, status, deployment, deps.events, deps.metrics);
  const outcome = await runSteps(steps, async (result, done) => {
    await observer(result, done);
    const now = performance.now();
    ms[result.step] = Math.round(now - mark);
    mark = now;
  });
  try {
    const result = await report({ ...reporter, timeout: spec.timeout, deployment }, outcome.done, verdict(outcome, deps.signal?.aborted ?? false));
    const now = performance.now();
    log.debug({ revision: outcome.done.fetch?.revision, action: "timings", ms: { ...ms, report: Math.round(now - mark), total: Math.round(now - startedAt) } }, "reconcile timings");
    return base === env ? result : { ...result, stored: base };
  } finally {
    outcome.done.fetch?.release?.(); // the report read the commit from the checkout; it may go once replaced
  }
}

const anonymousRegistry = new RegistryClient();

function stepContext(deps: ReconcileDeps, env: EnvironmentObject, spec: EnvironmentSpec, log: Logger, recordInventory: StepContext["recordInventory"]): StepContext {
  const owner = { namespace: env.metadata.namespace ?? "default", name: env.metadata.name };
  // Flux's model: the agent reads its Environment and the git Secret and writes status and Events as
  // itself; every read, write and prune of the Environment's objects impersonates its ServiceAccount.
  const serviceAccount = spec.serviceAccountName ?? deps.tenancy?.defaultServiceAccount;
  const kube = serviceAccount ? deps.client.impersonating(`system:serviceaccount:${owner.namespace}:${serviceAccount}`) : deps.client;
  return {
    env, spec, owner, log, agent: deps.client, kube,
    manager: new ResourceManager(kube, { concurrency: deps.concurrency, force: spec.force }),
    previous: env.status?.inventory?.entries ?? [],
    sources: deps.sources,
    sourceMaxAgeMs: deps.sourceMaxAgeMs ?? 0,
    sourceMoved: deps.sourceMoved ?? false,
    ...(deps.onSource ? { onSource: deps.onSource } : {}),
    ...(deps.onWaiting ? { onWaiting: deps.onWaiting } : {}),
    concurrency: deps.concurrency,
    // Limits of every git request of this run; the term's signal cancels them when leadership ends.
    git: { allowInsecureHttp: deps.allowInsecureHttp ?? false, ...deps.git, ...(deps.signal ? { signal: deps.signal } : {}) },
    noCrossNamespaceObjects: deps.tenancy?.noCrossNamespaceObjects ?? false,
    healthPollMs: deps.healthPollMs ?? 1000,
    registry: deps.registry ?? anonymousRegistry,
    ...(deps.signal ? { signal: deps.signal } : {}),
    ...(deps.renders ? { renders: deps.renders } : {}),
    ...(deps.accessReviews ? { accessReviews: deps.accessReviews } : {}),
    recordInventory,
  };
}
