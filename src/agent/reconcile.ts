/**
 * One reconcile of one Environment: fetch → render → plan → apply → prune → health → status.
 * Errors before apply leave the cluster untouched (the last applied state stays in place); the
 * Environment reports them as Stalled (user must fix git) or not Ready (transient, retried).
 */
import path from "node:path";
import { BatonError, BatonErrors } from "../errors.js";
import type { Logger } from "../log.js";
import { parseDuration } from "../config/duration.js";
import { pinsToRecord } from "../config/pins.js";
import { loadPipeline, type PipelineEnvironment, type NotifierSpec } from "../config/pipeline.js";
import { notify } from "../notify/send.js";
import { deploymentTracker } from "./deployments.js";
import { describeWeights, releaseEvent, releaseStatus } from "../release/status.js";
import { waitsForConfirmation } from "../release/strategy.js";
import { checkRemoteUrl, commitMessage, remoteHead, syncCheckout, type GitAuth } from "../git/fetch.js";
import type { KubeClient } from "../kube/client.js";
import { inventoryKey, type InventoryEntry } from "../kube/inventory.js";
import { ResourceManager, type ChangeSetEntry } from "../kube/manager.js";
import type { Owner } from "../kube/ownership.js";
import { environmentScope, scopeViolations } from "../kube/scope.js";
import { accessProblems } from "../kube/access.js";
import { describePlan } from "../kube/plan.js";
import { planAgainstCluster, renderForCluster } from "../kube/planner.js";
import { sleep } from "../util/pool.js";
import { registerSecret, scrubSecrets } from "../util/secrets.js";
import { appendHistory, envKey, parseEnvironmentSpec, setCondition, type EnvironmentObject, type EnvironmentSpec, type EnvironmentStatus } from "./environment.js";
import type { EventRecorder } from "./events.js";
import type { Metrics } from "./metrics.js";
import { statusNeedsWrite, writeStatus } from "./status.js";
import { changeKind } from "../promote/naming.js";
import { parseBatonCommit } from "../promote/trailers.js";

export interface ReconcileDeps {
  client: KubeClient;
  log: Logger;
  events: EventRecorder;
  metrics: Metrics;
  cacheDir: string;
  concurrency: number;
  now?: () => Date;
  /** Polling period while waiting for health. */
  healthPollMs?: number;
  signal?: AbortSignal;
  /** Accept http:// config repo URLs (`--allow-insecure-http`). */
  allowInsecureHttp?: boolean;
  /** Agent-wide tenancy guards (flags): `--no-cross-namespace-objects`, `--default-service-account`. */
  tenancy?: { noCrossNamespaceObjects: boolean; defaultServiceAccount?: string };
  /** Deadline and size cap of each git operation (the signal above is added to them). */
  git?: { timeoutMs?: number; maxBytes?: number };
}

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
  error?: BatonError;
}

async function readCredentials(client: KubeClient, namespace: string, spec: EnvironmentSpec): Promise<{ git?: GitAuth; githubToken?: string }> {
  if (!spec.secretRef) return {};
  const secret = await client.get("v1", "Secret", namespace, spec.secretRef.name);
  if (!secret) throw new BatonError("GIT_FAILED", `secret ${namespace}/${spec.secretRef.name} not found`, { field: "spec.secretRef.name", hint: "create the secret with keys username/password or token" });
  const data = (secret.data ?? {}) as Record<string, string>;
  const field = (k: string) => (data[k] ? Buffer.from(data[k], "base64").toString("utf8") : undefined);
  const auth: GitAuth = {};
  const username = field("username"), password = field("password"), token = field("token");
  if (username) auth.username = username;
  if (password) auth.password = password;
  if (token) auth.token = token;
  const githubToken = field("githubToken");
  for (const value of [username, password, token, githubToken]) registerSecret(value);
  return { ...(username || password || token ? { git: auth } : {}), ...(githubToken ? { githubToken } : {}) };
}

/** Policy for this folder from the repo's baton.yaml, when it has one that lists the path. */
async function pipelineEnvironment(dir: string, spec: EnvironmentSpec, name: string): Promise<{ env: PipelineEnvironment; notifiers?: NotifierSpec[] }> {
  const fallback: PipelineEnvironment = { name, path: spec.path, autoPromote: false, prune: spec.prune, requireDigests: true, allowDirectPush: false, ...(spec.targetNamespace ? { namespace: spec.targetNamespace } : {}) };
  try {
    const pipeline = await loadPipeline(dir);
    const match = pipeline.environments.find((e) => path.posix.normalize(e.path) === path.posix.normalize(spec.path));
    const env = match ? { ...match, ...(spec.targetNamespace ? { namespace: spec.targetNamespace } : {}) } : fallback;
    return pipeline.notifications ? { env, notifiers: pipeline.notifications } : { env };
  } catch (e) {
    if (e instanceof BatonError && e.code === "PIPELINE_NOT_FOUND") return { env: fallback };
    throw e;
  }
}

const STALLING_CODES = new Set(["ENV_OVERLAP", "ENV_CROSS_REFERENCE", "PIPELINE_SCHEMA", "PIPELINE_UNKNOWN_ENV", "PIPELINE_CYCLE", "PIPELINE_BAD_CRON", "PIPELINE_BAD_DURATION", "PIPELINE_DUPLICATE_ENV", "PIPELINE_STRATEGY",
  "RELEASE_SCHEMA", "RELEASE_MISMATCH", "STRATEGY_ROUTE_NOT_FOUND", "STRATEGY_NO_WORKLOAD", "STRATEGY_UNSUPPORTED",
  "PATH_TRAVERSAL", "SYMLINK_ESCAPE", "FILE_TOO_LARGE", "TOO_MANY_FILES", "YAML_SYNTAX", "YAML_ALIAS_LIMIT", "YAML_TOO_DEEP", "YAML_TOO_MANY_DOCUMENTS", "YAML_TOO_MANY_NODES", "YAML_TOO_MANY_LINES", "YAML_SCALAR_TOO_LONG", "YAML_AMBIGUOUS", "YAML_UNSUPPORTED_TAG", "YAML_CONTROL_CHARACTER", "FILE_NOT_UTF8", "ENV_DIR_NOT_FOUND", "OBJECT_NOT_A_MAP",
  "OBJECT_MISSING_FIELD", "OBJECT_INVALID_NAME", "OBJECT_DUPLICATE", "GIT_URL_NOT_ALLOWED", "KUSTOMIZE_FAILED", "KUSTOMIZE_REMOTE", "KUSTOMIZE_UNSUPPORTED", "PIN_NO_DIGEST", "PIN_LATEST", "PIN_BAD_DIGEST",
  "PIN_BAD_REFERENCE", "PIN_CONFLICT", "KUBE_UNKNOWN_KIND", "OWNERSHIP_CONFLICT", "SCOPE_FORBIDDEN", "KUBE_FORBIDDEN"]);

/** Ready reasons of the tenancy guards, so `kubectl get environments` says which guard stopped it. */
const GUARD_REASONS: Partial<Record<string, string>> = { OWNERSHIP_CONFLICT: "OwnershipConflict", SCOPE_FORBIDDEN: "ScopeForbidden", KUBE_FORBIDDEN: "Forbidden" };

export async function reconcileEnvironment(deps: ReconcileDeps, env: EnvironmentObject): Promise<ReconcileResult> {
  const now = deps.now ?? (() => new Date());
  const started = Date.now();
  const namespace = env.metadata.namespace ?? "default";
  const name = env.metadata.name;
  const log = deps.log.child({ env: envKey(env) });
  const status: EnvironmentStatus = { ...env.status };
  const generation = typeof env.metadata.generation === "number" ? env.metadata.generation : 0;
  const previous = status.inventory?.entries ?? [];
  let revision: string | undefined;
  let changes: ChangeSetEntry[] = [];
  let finishDeployment: ((state: "success" | "failure" | "inactive" | "pending", description: string) => Promise<void>) | undefined;

  // Status writes carry the resourceVersion of the last version this reconcile read or wrote.
  let base = env;
  const saveStatus = async (required = false): Promise<void> => {
    const written = await writeStatus(deps.client, base, status);
    if (written.result === "written") base = written.env;
    else if (required) throw new BatonError("KUBE_FAILED", `the Environment's status changed while reconciling (${written.result}); nothing was applied`, { hint: "retried at once; another replica may have reconciled it" });
    else if (written.result === "stale") log.warn({ action: "status" }, "the status changed while reconciling (another replica?); this result was not written");
  };

  const finish = async (result: ReconcileResult): Promise<ReconcileResult> => {
    status.observedGeneration = generation;
    const t = now();
    // Nothing changed (same revision, same conditions, same inventory): no write, only a rare heartbeat.
    const write = statusNeedsWrite(base.status, status, t);
    status.lastReconcileTime = t.toISOString();
    const seconds = (Date.now() - started) / 1000;
    deps.metrics.reconcileDuration.observe({ environment: envKey(env) }, seconds);
    deps.metrics.reconcileTotal.inc({ environment: envKey(env), result: result.ok ? "success" : "failure" });
    deps.metrics.ready.set({ environment: envKey(env) }, result.ok ? 1 : 0);
    if (write) await saveStatus().catch((e: unknown) => {
      log.warn({ err: e instanceof Error ? e.message : String(e) }, "could not update Environment status");
    });
    return result;
  };

  // Once the term's signal aborted, this replica may not write anything, and an interrupted run is not a failure.
  const interrupted = (): ReconcileResult => {
    log.info({ revision, action: "reconcile", reason: String(deps.signal?.reason instanceof Error ? deps.signal.reason.message : deps.signal?.reason) }, "reconcile interrupted; nothing more is written");
    return { ok: false, ...(revision ? { revision } : {}), changes, stalled: false, interrupted: true };
  };

  const fail = async (e: unknown): Promise<ReconcileResult> => {
    if (deps.signal?.aborted) return interrupted();
    const errors = e instanceof BatonErrors ? e.errors : [e instanceof BatonError ? e : new BatonError("KUBE_FAILED", e instanceof Error ? e.message : String(e))];
    const first = errors[0] as BatonError;
    const stalled = errors.every((x) => STALLING_CODES.has(x.code));
    const message = scrubSecrets(errors.map((x) => x.oneLine()).join("; ")).slice(0, 2000);
    await finishDeployment?.("failure", message);
    const t = now();
    status.conditions = setCondition(status.conditions, { type: "Ready", status: "False", reason: stalled ? (GUARD_REASONS[first.code] ?? "ValidationFailed") : first.code === "GIT_FAILED" ? "GitOperationFailed" : "ReconciliationFailed", message, observedGeneration: generation }, t);
    status.conditions = setCondition(status.conditions, { type: "Stalled", status: stalled ? "True" : "False", reason: stalled ? first.code : "Retrying", message: stalled ? message : "", observedGeneration: generation }, t);
    status.conditions = setCondition(status.conditions, { type: "Reconciling", status: "False", reason: "Failed", message: "", observedGeneration: generation }, t);
    deps.metrics.errors.inc({ environment: envKey(env), code: first.code });
    log.error({ revision, code: first.code, action: "reconcile", err: message }, "reconcile failed");
    await deps.events.record(env, "Warning", stalled ? "Stalled" : "ReconcileFailed", message);
    return finish({ ok: false, ...(revision ? { revision } : {}), changes, stalled, error: first });
  };

  let spec: EnvironmentSpec;
  try {
    spec = parseEnvironmentSpec(env);
  } catch (e) {
    return fail(e);
  }
  const owner: Owner = { namespace, name };
  // Flux's model: the agent reads its Environment and the git Secret and writes status and Events as
  // itself; every read, write and prune of the Environment's objects impersonates its ServiceAccount.
  const serviceAccount = spec.serviceAccountName ?? deps.tenancy?.defaultServiceAccount;
  const kube = serviceAccount ? deps.client.impersonating(`system:serviceaccount:${namespace}:${serviceAccount}`) : deps.client;
  const manager = new ResourceManager(kube, { concurrency: deps.concurrency, force: spec.force });
  try {
    // 1. Fetch (one request when nothing moved).
    // Limits of every git request of this run; the term's signal cancels them when leadership ends.
    const fetchOptions = { allowInsecureHttp: deps.allowInsecureHttp ?? false, ...deps.git, ...(deps.signal ? { signal: deps.signal } : {}) };
    checkRemoteUrl(spec.url, fetchOptions);
    const credentials = await readCredentials(deps.client, namespace, spec);
    const fetched = await syncCheckout(spec.url, spec.branch, path.join(deps.cacheDir, namespace, name), credentials.git, fetchOptions);
    revision = fetched.revision;
    status.lastAttemptedRevision = revision;
    log.debug({ revision, fetched: fetched.fetched }, "fetched");

    // 2. Render and check pins; nothing is applied from a repo that does not validate.
    const { env: envSpec, notifiers } = await pipelineEnvironment(fetched.dir, spec, name);
    const rendered = await renderForCluster(deps.client, fetched.dir, envSpec, spec.targetNamespace ? { targetNamespace: spec.targetNamespace } : {});
    const { pins } = rendered;
    if (rendered.objects.length === 0 && previous.length > 0 && !spec.allowEmpty) {
      throw new BatonError("OBJECT_MISSING_FIELD", `${spec.path} rendered zero objects; refusing to prune the ${previous.length} applied objects`, {
        file: spec.path, hint: "restore the manifests, or set spec.allowEmpty: true to really delete everything",
      });
    }

    // Where this Environment may write (its grant and the agent's flag), before anything is read or written there.
    const scope = environmentScope(namespace, spec, deps.tenancy?.noCrossNamespaceObjects ?? false);
    const outside = scopeViolations(rendered.objects, scope);
    if (outside.length > 0) throw new BatonErrors(outside);

    // 3. Plan against live state.
    const { desired, plan, conflicts } = await planAgainstCluster(manager, rendered.objects, { owner, previous, ...(spec.targetNamespace ? { targetNamespace: spec.targetNamespace } : {}) });
    if (conflicts.length > 0) throw new BatonErrors(conflicts);
    log.info({ revision, action: "plan" }, describePlan(plan));
    // Every write and delete of the plan, asked of the API server as the identity that will make it.
    const pruning = spec.prune && envSpec.prune;
    const denied = await accessProblems(kube, pruning ? plan : { ...plan, prune: [] }, deps.concurrency);
    if (denied.length > 0) throw new BatonErrors(denied);

    // A new revision becomes a GitHub Deployment (when configured); its status follows the health check.
    const deploys = plan.objects.some((o) => o.action !== "unchanged") || plan.prune.length > 0 || !env.status?.lastAppliedRevision;
    const tracker = deploys && env.status?.lastAppliedRevision !== revision ? deploymentTracker(spec, envSpec.name, credentials.githubToken, log) : undefined;
    const deploymentId = await tracker?.started(revision, `baton applies ${revision.slice(0, 12)} to ${envSpec.name}`);
    // Every way out of this reconcile settles the deployment, so none stays in_progress (which would block soak).
    finishDeployment = async (state, description) => {
      if (deps.signal?.aborted) return; // a deposed leader leaves the deployment in progress for the next one
      finishDeployment = undefined;
      if (tracker && deploymentId !== undefined) await tracker.finished(deploymentId, state, description);
    };

    // 4. Apply, 5. prune (only after every apply succeeded). Before the first object is created, the
    // inventory records it (with no hash yet): a run that fails or is cut short half-way never leaves an
    // object the inventory does not know, so a later prune finds it.
    const known = new Set(previous.map((e) => e.id));
    const creates = desired.filter((d) => !known.has(inventoryKey(d.id)));
    if (creates.length > 0) {
      status.inventory = { entries: [...previous, ...creates.map((d) => ({ id: inventoryKey(d.id), v: d.id.version }))] };
      await saveStatus(true);
    }
    changes = await manager.apply(plan);
    const hashes = new Map(plan.objects.map((o) => [inventoryKey(o.desired.id), o.hash]));
    const inventory: InventoryEntry[] = desired.map((d) => ({ id: inventoryKey(d.id), v: d.id.version, h: hashes.get(inventoryKey(d.id)) as string }));
    // Until the prune succeeded, the objects it must delete stay in the inventory, so a failed prune is retried.
    const pending = new Set(plan.prune.map(inventoryKey));
    status.inventory = { entries: [...inventory, ...previous.filter((e) => pending.has(e.id))] };
    if (pruning) {
      const pruned = await manager.prune(owner, plan.prune, desired.map((d) => d.id));
      changes.push(...pruned);
      // A prune a guard held back (a Namespace still in use, a CRD with resources) is retried next time.
      const retained = new Set(pruned.filter((c) => c.retain).map((c) => inventoryKey(c.id)));
      status.inventory = { entries: [...inventory, ...previous.filter((e) => retained.has(e.id))] };
    }

    for (const c of changes.filter((c) => c.action !== "unchanged" && c.action !== "skipped")) log.info({ revision, object: c.object, action: c.action }, c.message ?? c.action);
    const count = (a: ChangeSetEntry["action"]) => changes.filter((c) => c.action === a).length;
    const applied = count("created") + count("configured") + count("drift-corrected");
    deps.metrics.objectsApplied.inc({ environment: envKey(env) }, applied);
    deps.metrics.objectsPruned.inc({ environment: envKey(env) }, count("deleted"));
    deps.metrics.driftCorrected.inc({ environment: envKey(env) }, count("drift-corrected"));
    if (applied > 0) await deps.events.record(env, "Normal", "Applied", `revision ${revision.slice(0, 12)}: ${count("created")} created, ${count("configured")} configured, ${count("drift-corrected")} drift corrected`);
    if (count("deleted") > 0) await deps.events.record(env, "Normal", "Pruned", `pruned ${changes.filter((c) => c.action === "deleted").map((c) => c.object).join(", ")}`.slice(0, 1000));
    const heldBack = changes.filter((c) => c.retain).map((c) => `${c.object}: ${c.message ?? "held back"}`);
    if (heldBack.length > 0) {
      log.warn({ revision, action: "prune", objects: heldBack }, "prune held back by a guard");
      await deps.events.record(env, "Warning", "PruneSkipped", heldBack.join("; ").slice(0, 1000));
    }
    const drifted = changes.filter((c) => c.action === "drift-corrected").map((c) => c.object);
    if (drifted.length > 0) {
      status.lastDrift = { detectedAt: now().toISOString(), objects: drifted };
      log.warn({ revision, action: "drift", objects: drifted }, "reverted manual changes");
      await deps.events.record(env, "Warning", "DriftCorrected", `reverted manual changes to ${drifted.join(", ")}`.slice(0, 1000));
    }

    // 6. Health, waited for up to spec.timeout.
    status.pins = pinsToRecord(pins);
    const timeoutMs = parseDuration(spec.timeout) ?? 120_000;
    const deadline = Date.now() + timeoutMs;
    let health = await manager.health(desired);
    let superseded = false;
    for (let polls = 1; health.status === "InProgress" && Date.now() < deadline && !deps.signal?.aborted; polls++) {
      // A newer commit must not wait behind this rollout: every few polls, one ls-remote-sized request.
      if (polls % 5 === 0 && (await remoteHead(spec.url, spec.branch, credentials.git, fetchOptions).catch(() => revision)) !== revision) {
        superseded = true;
        break;
      }
      status.conditions = setCondition(status.conditions, { type: "Reconciling", status: "True", reason: "Progressing", message: `waiting for ${health.results.filter((r) => r.health.status !== "Current").map((r) => `${r.object}: ${r.health.message}`).join("; ")}`.slice(0, 1000), observedGeneration: generation }, now());
      await sleep(deps.healthPollMs ?? 1000, deps.signal);
      health = await manager.health(desired);
    }
    if (deps.signal?.aborted) return interrupted();
    if (superseded) {
      await finishDeployment?.("inactive", "superseded by a newer commit");
      status.lastAppliedRevision = revision;
      status.conditions = setCondition(status.conditions, { type: "Reconciling", status: "True", reason: "Superseded", message: `a newer commit arrived while ${revision.slice(0, 12)} was rolling out`, observedGeneration: generation }, now());
      log.info({ revision, action: "health" }, "newer revision arrived; reconciling it now");
      return finish({ ok: false, revision, changes, stalled: false, superseded: true });
    }
    const t = now();
    const notReady = health.results.filter((r) => r.health.status !== "Current").map((r) => `${r.object}: ${r.health.message}`).join("; ");
    const ready = health.status === "Current";
    const previousHealth = status.health;
    status.health = health.status;
    status.conditions = setCondition(status.conditions, { type: "Reconciling", status: "False", reason: ready ? "Succeeded" : "HealthCheckFailed", message: "", observedGeneration: generation }, t);
    status.conditions = setCondition(status.conditions, { type: "Stalled", status: "False", reason: "Succeeded", message: "", observedGeneration: generation }, t);
    status.conditions = setCondition(status.conditions, {
      type: "Ready", status: ready ? "True" : "False", reason: ready ? "ReconciliationSucceeded" : health.status === "Failed" ? "HealthCheckFailed" : "HealthCheckTimeout",
      message: ready ? `Applied revision ${revision}${heldBack.length > 0 ? `; prune held back: ${heldBack.join("; ")}` : ""}`.slice(0, 1000) : `health check ${health.status === "Failed" ? "failed" : `timed out after ${spec.timeout}`}: ${notReady}`.slice(0, 1000), observedGeneration: generation,
    }, t);
    status.lastAppliedRevision = revision;
    if (ready) deps.metrics.lastApplied.set({ environment: envKey(env) }, Math.floor(t.getTime() / 1000));
    // History and notifications record deployments: revisions that changed this environment's objects
    // (a commit elsewhere in the repo moves lastAppliedRevision but deploys nothing here), or a new result.
    const changedObjects = applied + count("deleted") > 0;
    const lastEntry = env.status?.history?.at(-1);
    const newRevision = !lastEntry || (env.status?.lastAppliedRevision !== revision && changedObjects) || lastEntry.result !== (ready ? "Ready" : "Failed");
    // A release waiting for `baton confirm` is healthy but not done: GitHub shows the deployment as pending.
    const release = rendered.release ? releaseStatus(envSpec.strategy?.type ?? "canary", rendered.release, env.status?.release, ready, t) : undefined;
    const waiting = ready && rendered.release?.state.step !== undefined && waitsForConfirmation(rendered.release.state.step);
    await finishDeployment?.(!ready ? "failure" : waiting ? "pending" : "success", !ready ? notReady : waiting ? `healthy; ${release?.phase ?? ""}: waits for baton confirm` : "healthy");
    if (release) {
      status.release = release;
      const event = releaseEvent(env.status?.release?.phase, release.phase);
      if (event) {
        void notify(notifiers, { type: event, environment: envSpec.name, summary: `${envSpec.name}: release ${release.phase} (${describeWeights(release)})`, revision, images: status.pins, at: t.toISOString() }, log);
        await deps.events.record(env, "Normal", "ReleasePhase", `release ${release.phase} at ${revision.slice(0, 12)} (${describeWeights(release)})`);
      }
    } else {
      // The strategy is gone from baton.yaml: no phase to show (writeStatus sends the removal as null).
      delete status.release;
    }
    if (newRevision) {
      // Fire and forget: a notification outage never delays or fails a deploy.
      // A merged promotion PR that is now live is announced as such, in addition to the deploy result.
      if (ready && isPromotion(await commitMessage(fetched.dir, revision).catch(() => ""))) {
        void notify(notifiers, { type: "promotion.merged", environment: envSpec.name, summary: `promotion to ${envSpec.name} merged and live at ${revision.slice(0, 12)}`, revision, images: status.pins, at: t.toISOString() }, log);
      }
      void notify(notifiers, { type: ready ? "deploy.succeeded" : "deploy.failed", environment: envSpec.name, summary: ready ? `revision ${revision.slice(0, 12)} is live and healthy` : `revision ${revision.slice(0, 12)} is not healthy: ${notReady}`.slice(0, 300), revision, images: status.pins, at: t.toISOString() }, log);
    }
    if (newRevision) status.history = appendHistory(status.history, { revision, appliedAt: t.toISOString(), result: ready ? "Ready" : "Failed", message: ready ? "healthy" : notReady.slice(0, 300), pins: status.pins });
    if (previousHealth !== health.status) {
      await deps.events.record(env, ready ? "Normal" : "Warning", "HealthChanged", ready ? `revision ${revision.slice(0, 12)} is healthy` : `revision ${revision.slice(0, 12)} is not healthy: ${notReady}`);
    }
    log.info({ revision, action: "health", health: health.status, ...(ready ? {} : { waitingFor: notReady.slice(0, 500) }) }, ready ? "environment ready" : "environment not healthy");
    return finish({ ok: ready, revision, changes, stalled: false, ...(ready ? {} : { error: new BatonError("HEALTH_TIMEOUT", notReady, { hint: "kubectl describe the objects listed" }) }) });
  } catch (e) {
    return fail(e);
  }
}

/** A promotion landed, however it was merged: trailers, GitHub's merge subject, or a squash subject. */
function isPromotion(message: string): boolean {
  return changeKind(message.split("\n")[0] ?? "", parseBatonCommit(message).kind) === "promotion";
}
