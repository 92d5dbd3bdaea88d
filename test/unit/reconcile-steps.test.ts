// The reconcile runs as named steps; the report is derived from their results (src/agent/steps/).
import { test } from "node:test";
import assert from "node:assert/strict";
import { BatonError, BatonErrors } from "../../src/errors.js";
import { silentLogger } from "../../src/log.js";
import { Metrics } from "../../src/agent/metrics.js";
import type { EventRecorder } from "../../src/agent/events.js";
import type { EnvironmentObject, EnvironmentStatus } from "../../src/agent/environment.js";
import type { HealthOutcome, Planned, StepContext } from "../../src/agent/steps/context.js";
import { healthPollDelay, healthStep } from "../../src/agent/steps/health.js";
import { report, type Reporter } from "../../src/agent/steps/report.js";
import { runSteps, type StepName, type StepResult, type Steps } from "../../src/agent/steps/sequence.js";
import { verdict } from "../../src/agent/steps/verdict.js";
import type { ApplyRender } from "../../src/release/render.js";

type Fake = { fetch: string; trust: string; render: string; verify: string; plan: string; apply: string; prune: string; health: HealthOutcome };

/** Steps that record their calls; `fail` names a step that throws `error`. */
function fakeSteps(fail?: { step: StepName; error: unknown }, health: HealthOutcome = { kind: "settled", status: "Current", notReady: "" }) {
  const calls: string[] = [];
  const step = <T>(name: StepName, value: T) => async (): Promise<T> => {
    calls.push(name);
    if (fail?.step === name) throw fail.error;
    return value;
  };
  const steps: Steps<Fake> = {
    fetch: step("fetch", "abc123"), trust: step("trust", "trusted"), render: step("render", "rendered"), verify: step("verify", "verified"), plan: step("plan", "planned"),
    apply: step("apply", "applied"), prune: step("prune", "pruned"), health: step("health", health),
  };
  return { steps, calls };
}

test("a failed render stops before plan; the verdict names the step and stalls on a git error", async () => {
  const { steps, calls } = fakeSteps({ step: "render", error: new BatonError("YAML_SYNTAX", "bad indentation", { file: "envs/prod/web.yaml" }) });
  const seen: Array<StepResult<Fake>> = [];
  const outcome = await runSteps(steps, (r) => { seen.push(r); });
  assert.deepEqual(calls, ["fetch", "trust", "render"]);
  assert.deepEqual(seen.map((r) => [r.step, r.ok]), [["fetch", true], ["trust", true], ["render", false]]);
  assert.equal(outcome.ok, false);
  assert.deepEqual(outcome.done, { fetch: "abc123", trust: "trusted" });
  const v = verdict(outcome, false);
  assert.equal(v.kind, "failed");
  if (v.kind !== "failed") return;
  assert.deepEqual([v.step, v.stalled, v.readyReason, v.error.code], ["render", true, "ValidationFailed", "YAML_SYNTAX"]);
  assert.match(v.message, /envs\/prod\/web\.yaml/);
});

test("observers see each result before the next step runs (a deployment starts after plan, before apply)", async () => {
  const { steps, calls } = fakeSteps();
  const outcome = await runSteps(steps, (r) => { calls.push(`saw ${r.step}`); });
  assert.deepEqual(calls, ["fetch", "saw fetch", "trust", "saw trust", "render", "saw render", "verify", "saw verify", "plan", "saw plan", "apply", "saw apply", "prune", "saw prune", "health", "saw health"]);
  assert.deepEqual(verdict(outcome, false), { kind: "settled", ready: true, health: "Current", notReady: "" });
});

test("verdicts: transient errors retry, guards name themselves, a git outage says so, a timeout is not Ready", async () => {
  const failed = async (step: StepName, error: unknown) => verdict(await runSteps(fakeSteps({ step, error }).steps, () => undefined), false);
  assert.deepEqual(pick(await failed("apply", new Error("connection reset"))), ["apply", false, "ReconciliationFailed", "KUBE_FAILED"]);
  assert.deepEqual(pick(await failed("plan", new BatonErrors([new BatonError("KUBE_FORBIDDEN", "cannot create Deployment prod/web")]))), ["plan", true, "Forbidden", "KUBE_FORBIDDEN"]);
  assert.deepEqual(pick(await failed("fetch", new BatonError("GIT_FAILED", "503"))), ["fetch", false, "GitOperationFailed", "GIT_FAILED"]);
  // An unsigned digest: nothing planned or applied, retried (its signature may be pushed after the image).
  assert.deepEqual(pick(await failed("verify", new BatonError("SIGNATURE_MISSING", "refusing to apply r/web@sha256:…"))), ["verify", false, "SignatureVerificationFailed", "SIGNATURE_MISSING"]);
  // A commit not signed by a trusted key, or a history rewrite: refused before render, retried (the key or a fix may follow).
  assert.deepEqual(pick(await failed("trust", new BatonError("COMMIT_VERIFICATION_FAILED", "refusing to apply commit abc"))), ["trust", false, "CommitVerificationFailed", "COMMIT_VERIFICATION_FAILED"]);
  assert.deepEqual(pick(await failed("trust", new BatonError("NON_FAST_FORWARD", "abc does not descend from def"))), ["trust", false, "NonFastForward", "NON_FAST_FORWARD"]);
  // A chart version that is not published is a fix in git (or a chart push): Stalled, not retried hot.
  assert.deepEqual(pick(await failed("render", new BatonError("CHART_VERSION_NOT_FOUND", "chart oci://r/charts/web has no version 9.9.9"))), ["render", true, "ValidationFailed", "CHART_VERSION_NOT_FOUND"]);
  // One transient error among stalling ones: retried, not stalled.
  assert.deepEqual(pick(await failed("plan", new BatonErrors([new BatonError("OWNERSHIP_CONFLICT", "x"), new BatonError("KUBE_FAILED", "y")]))), ["plan", false, "ReconciliationFailed", "OWNERSHIP_CONFLICT"]);
  const timedOut = verdict(await runSteps(fakeSteps(undefined, { kind: "settled", status: "InProgress", notReady: "Deployment/web: 1 of 2 updated" }).steps, () => undefined), false);
  assert.deepEqual(timedOut, { kind: "settled", ready: false, health: "InProgress", notReady: "Deployment/web: 1 of 2 updated" });
});

test("a run whose term ended is interrupted, never failed, at whichever step it stood", async () => {
  const outcome = await runSteps(fakeSteps({ step: "apply", error: new Error("aborted") }).steps, () => undefined);
  assert.deepEqual(verdict(outcome, true), { kind: "interrupted", step: "apply" });
  const cut = await runSteps(fakeSteps(undefined, { kind: "interrupted" }).steps, () => undefined);
  assert.deepEqual(verdict(cut, true), { kind: "interrupted", step: "health" });
});

function pick(v: ReturnType<typeof verdict>): unknown[] {
  assert.equal(v.kind, "failed");
  return v.kind === "failed" ? [v.step, v.stalled, v.readyReason, v.error.code] : [];
}

function reporter(stored: EnvironmentStatus) {
  const events: string[] = [];
  let saves = 0;
  const env: EnvironmentObject = { apiVersion: "baton.dev/v1alpha1", kind: "Environment", metadata: { namespace: "team", name: "prod", generation: 2 }, spec: {}, status: stored };
  const metrics = new Metrics();
  const r: Reporter = {
    env, log: silentLogger, status: { ...stored }, metrics, now: () => new Date("2026-01-01T00:00:00Z"), started: Date.now(),
    events: { record: async (_e: unknown, type: string, reason: string) => { events.push(`${type} ${reason}`); } } as unknown as EventRecorder,
    stored: () => stored,
    save: async () => { saves++; },
  };
  return { r, events, metrics, saves: () => saves };
}

test("the report turns a failed step into conditions, one Event and an error metric, and keeps the last good revision", async () => {
  const { r, events, metrics, saves } = reporter({ lastAppliedRevision: "good" });
  const outcome = await runSteps(fakeSteps({ step: "render", error: new BatonError("YAML_SYNTAX", "bad") }).steps, () => undefined);
  const result = await report(r, { fetch: { revision: "bad", dir: "/x", credentials: {} } }, verdict(outcome, false));
  assert.deepEqual([result.ok, result.stalled, result.failedStep, result.revision], [false, true, "render", "bad"]);
  assert.deepEqual(events, ["Warning Stalled"]);
  assert.deepEqual(r.status.conditions?.map((c) => [c.type, c.status, c.reason]), [["Ready", "False", "ValidationFailed"], ["Stalled", "True", "YAML_SYNTAX"], ["Reconciling", "False", "Failed"]]);
  assert.deepEqual([r.status.lastAppliedRevision, r.status.lastAttemptedRevision], ["good", "bad"]);
  assert.equal(saves(), 1);
  assert.match(await metrics.render(), /^baton_reconcile_errors_total\{environment="team\/prod",code="YAML_SYNTAX"\} 1$/m);
});

test("the same failure again changes nothing, so the report writes no status", async () => {
  const first = reporter({ lastAppliedRevision: "good" });
  const fail = () => runSteps(fakeSteps({ step: "render", error: new BatonError("YAML_SYNTAX", "bad") }).steps, () => undefined);
  await report(first.r, { fetch: { revision: "bad", dir: "/x", credentials: {} } }, verdict(await fail(), false));
  const again = reporter({ ...first.r.status });
  await report(again.r, { fetch: { revision: "bad", dir: "/x", credentials: {} } }, verdict(await fail(), false));
  assert.equal(again.saves(), 0);
});

test("an interrupted run reports nothing: no status, no Event, no metric", async () => {
  const { r, events, metrics, saves } = reporter({});
  const result = await report(r, { fetch: { revision: "abc", dir: "/x", credentials: {} } }, { kind: "interrupted", step: "health" });
  assert.deepEqual([result.interrupted, result.failedStep, saves(), events.length], [true, "health", 0, 0]);
  assert.doesNotMatch(await metrics.render(), /baton_reconcile_total\{/);
});

test("the health wait polls soon at first, then less often: 100 ms, doubling up to the poll period", async () => {
  assert.deepEqual([1, 2, 3, 4, 5, 6, 40].map((poll) => healthPollDelay(poll, 1000)), [100, 200, 400, 800, 1000, 1000, 1000]);
  assert.deepEqual([1, 2, 3].map((poll) => healthPollDelay(poll, 50)), [50, 50, 50], "never longer apart than the period");
  // A rollout done by the third read settles after two short polls, and gives its worker back while it waits.
  const reads: string[] = [];
  let waiting = 0;
  const rollingOut = { status: "InProgress" as const, results: [{ object: "apps/v1 Deployment ns/web", health: { status: "InProgress" as const, message: "1 of 2 replicas updated" } }] };
  const done = { status: "Current" as const, results: [{ object: "apps/v1 Deployment ns/web", health: { status: "Current" as const, message: "" } }] };
  const ctx = {
    spec: { timeout: "1m", url: "https://git.example.com/config.git", branch: "main" },
    manager: { health: async () => (reads.push("read"), reads.length < 3 ? rollingOut : done) },
    onWaiting: () => waiting++,
    git: {}, healthPollMs: 1000,
  } as unknown as StepContext;
  const outcome = await healthStep(ctx, { revision: "a".repeat(40), dir: "/nowhere", credentials: {} }, { desired: [], plan: { objects: [], prune: [] }, pruning: false, deploys: true } as unknown as Planned);
  assert.deepEqual(outcome, { kind: "settled", status: "Current", notReady: "", waited: "waiting for apps/v1 Deployment ns/web: 1 of 2 replicas updated" });
  assert.equal(reads.length, 3);
  assert.equal(waiting, 1);
});

test("a settled run writes its status first: the commit message is read beside the write, notifications go out after it", async () => {
  const { r, events } = reporter({ lastAppliedRevision: "a".repeat(40), health: "Current" });
  const order: string[] = [];
  let written = () => {};
  const statusWritten = new Promise<void>((resolve) => (written = resolve));
  r.save = async () => {
    order.push("status written");
    written();
  };
  r.notify = async (_notifiers, event) => {
    order.push(`notified ${event.type}`);
    return [];
  };
  // The read finishes once the status is written, or after a while when the write waits for the read.
  const aWhile = async () => {
    for (let i = 0; i < 50; i++) await new Promise((resolve) => setImmediate(resolve));
  };
  r.commitMessage = async () => {
    order.push("commit read started");
    await Promise.race([statusWritten, aWhile()]);
    order.push("commit read");
    return "Merge pull request #7 from acme/baton/promote/staging-to-prod\n\nPromote web";
  };
  const revision = "b".repeat(40);
  const envSpec = { name: "prod", path: "envs/prod", autoPromote: false, prune: true, requireDigests: true, allowDirectPush: false };
  const done = {
    fetch: { revision, dir: "/checkout", credentials: {} }, trust: {}, verify: { images: [] },
    render: { envSpec, notifiers: [{ type: "webhook" as const, name: "team", url: "http://127.0.0.1:9/hook" }], render: { pins: new Map(), objects: [] } as unknown as ApplyRender },
    plan: { desired: [], plan: { objects: [], prune: [] }, pruning: true, deploys: true } as unknown as Planned,
    apply: { changes: [{ object: "v1 ConfigMap prod/web", id: { group: "", version: "v1", kind: "ConfigMap", namespace: "prod", name: "web" }, action: "configured" as const }], inventory: [] },
    prune: { changes: [] }, health: { kind: "settled" as const, status: "Current" as const, notReady: "" },
  };
  const result = await report(r, done, { kind: "settled", ready: true, health: "Current", notReady: "" });
  assert.equal(result.ok, true);
  assert.equal(r.status.lastAppliedRevision, revision);
  assert.deepEqual(order, ["commit read started", "status written", "commit read", "notified promotion.merged", "notified deploy.succeeded"]);
  assert.deepEqual(events, [], "health did not change: no Event");
});
