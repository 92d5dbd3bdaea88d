import { test } from "node:test";
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { normalizeRepoUrl, pushMatches, verifySignature } from "../../src/agent/webhook.js";
import { nextDelay } from "../../src/agent/backoff.js";
import { appendHistory, parseEnvironmentSpec, setCondition, type EnvironmentStatus } from "../../src/agent/environment.js";
import { STATUS_HEARTBEAT_MS, statusNeedsWrite } from "../../src/agent/status.js";
import { redactUrl } from "../../src/log.js";
import { readiness } from "../../src/agent/readiness.js";
import { Metrics } from "../../src/agent/metrics.js";
import { mergePatchFrom } from "../../src/kube/merge-patch.js";

test("webhook signatures: only the exact HMAC of the raw body passes", () => {
  const body = Buffer.from('{"ref":"refs/heads/main"}');
  const good = `sha256=${createHmac("sha256", "s").update(body).digest("hex")}`;
  assert.equal(verifySignature("s", body, good), true);
  assert.equal(verifySignature("s", Buffer.from('{"ref":"refs/heads/main" }'), good), false);
  assert.equal(verifySignature("other", body, good), false);
  assert.equal(verifySignature("s", body, undefined), false);
  assert.equal(verifySignature("", body, good), false);
  assert.equal(verifySignature("s", body, good.replace("sha256=", "sha1=")), false);
});

test("push events match environments by repository (any URL form) and branch", () => {
  assert.equal(normalizeRepoUrl("https://GitHub.com/Acme/Config.git"), "github.com/acme/config");
  assert.equal(normalizeRepoUrl("git@github.com:acme/config.git"), "github.com/acme/config");
  const event = { ref: "refs/heads/main", repository: { clone_url: "https://github.com/acme/config.git" } };
  assert.equal(pushMatches(event, { url: "https://github.com/acme/config", branch: "main" }), true);
  assert.equal(pushMatches(event, { url: "https://github.com/acme/config", branch: "release" }), false);
  assert.equal(pushMatches(event, { url: "https://github.com/acme/other", branch: "main" }), false);
});

test("backoff grows exponentially after failures, capped at the interval; success uses the jittered interval", () => {
  const mid = () => 0.5;
  assert.equal(nextDelay(60_000, 0, mid), 60_000);
  assert.equal(nextDelay(60_000, 1, mid), 2000);
  assert.equal(nextDelay(60_000, 3, mid), 8000);
  assert.equal(nextDelay(60_000, 20, mid), 60_000);
  assert.ok(nextDelay(60_000, 0, () => 0) >= 54_000 && nextDelay(60_000, 0, () => 1) <= 66_000);
});

test("conditions keep lastTransitionTime until the status flips; history keeps the last 10", () => {
  const t1 = new Date("2026-01-01T00:00:00Z"), t2 = new Date("2026-01-01T00:05:00Z");
  let c = setCondition(undefined, { type: "Ready", status: "True", reason: "A", message: "" }, t1);
  c = setCondition(c, { type: "Ready", status: "True", reason: "B", message: "" }, t2);
  assert.equal(c[0]?.lastTransitionTime, t1.toISOString());
  c = setCondition(c, { type: "Ready", status: "False", reason: "C", message: "" }, t2);
  assert.equal(c[0]?.lastTransitionTime, t2.toISOString());
  let h = undefined as ReturnType<typeof appendHistory> | undefined;
  for (let i = 0; i < 12; i++) h = appendHistory(h, { revision: `r${i}`, appliedAt: "t", result: "Ready", message: "" });
  assert.equal(h?.length, 10);
  assert.equal(h?.[0]?.revision, "r2");
});

test("Environment specs are validated with field paths; defaults applied", () => {
  const env = { apiVersion: "baton.dev/v1alpha1", kind: "Environment", metadata: { name: "e", namespace: "n" }, spec: { url: "https://git.example.com/c.git", path: "environments/staging" } };
  const spec = parseEnvironmentSpec(env);
  assert.equal(spec.branch, "main");
  assert.equal(spec.prune, true);
  assert.throws(() => parseEnvironmentSpec({ ...env, spec: { url: "not a url", path: "x" } }), (e: Error & { field?: string }) => e.field === "spec.url");
  assert.throws(() => parseEnvironmentSpec({ ...env, spec: { ...env.spec, interval: "soon" } }), (e: Error & { field?: string }) => e.field === "spec.interval");
  // The name is an owner label value on every applied object: at most 63 characters.
  assert.throws(() => parseEnvironmentSpec({ ...env, metadata: { name: "e".repeat(64), namespace: "n" } }), (e: Error & { field?: string }) => e.field === "metadata.name");
  assert.equal(parseEnvironmentSpec({ ...env, metadata: { name: "e".repeat(63), namespace: "n" } }).path, env.spec.path);
  assert.throws(() => parseEnvironmentSpec({ ...env, spec: { ...env.spec, allowedClusterResources: [{ kind: "Namespace" }] } }), (e: Error & { field?: string }) => e.field === "spec.allowedClusterResources.0.group");
  assert.throws(() => parseEnvironmentSpec({ ...env, spec: { ...env.spec, targetNamespace: "Not_A_Namespace" } }), (e: Error & { field?: string }) => e.field === "spec.targetNamespace");
  for (const interval of ["0s", "500ms"]) {
    assert.throws(() => parseEnvironmentSpec({ ...env, spec: { ...env.spec, interval } }), (e: Error & { field?: string }) => e.field === "spec.interval" && /at least 1s/.test(e.message), interval);
  }
  assert.equal(parseEnvironmentSpec({ ...env, spec: { ...env.spec, interval: "1s" } }).interval, "1s");
});

test("status is written only when something but lastReconcileTime changed, or as a 10-minute heartbeat", () => {
  const now = new Date("2026-11-27T12:00:00Z");
  const stored: EnvironmentStatus = { lastAppliedRevision: "abc", lastReconcileTime: "2026-11-27T11:59:00Z", conditions: [{ type: "Ready", status: "True", reason: "ReconciliationSucceeded", message: "Applied revision abc", lastTransitionTime: "2026-11-27T11:00:00Z" }] };
  assert.equal(statusNeedsWrite(stored, { ...stored, lastReconcileTime: now.toISOString() }, now), false, "same status a minute later");
  assert.equal(statusNeedsWrite(stored, { ...stored, release: undefined }, now), false, "an undefined field is an absent one");
  assert.equal(statusNeedsWrite(stored, { ...stored, lastAppliedRevision: "def" }, now), true, "a new revision");
  assert.equal(statusNeedsWrite(stored, { ...stored, conditions: [{ ...stored.conditions![0]!, message: "other" }] }, now), true, "a changed condition");
  assert.equal(statusNeedsWrite(stored, stored, new Date(now.getTime() + STATUS_HEARTBEAT_MS)), true, "the heartbeat is due");
  assert.equal(statusNeedsWrite(undefined, { lastAppliedRevision: "abc" }, now), true, "a first status");
  assert.equal(statusNeedsWrite({ lastAppliedRevision: "abc" }, { lastAppliedRevision: "abc" }, now), true, "no lastReconcileTime stored yet");
});

test("URLs lose their credentials before they are logged", () => {
  assert.equal(redactUrl("https://user:tok3n@github.com/acme/c.git"), "https://redacted@github.com/acme/c.git");
  assert.doesNotMatch(redactUrl("https://x:tok3n@h/c"), /tok3n/);
});

test("/readyz: a standby needs a recent lease read; a leader needs a recent Environment list", () => {
  const base = { now: 100_000, resyncMs: 5000, leaseDurationMs: 15_000 };
  assert.equal(readiness({ ...base, standby: true, lastLeaseContact: 99_000, lastResync: 0 }).ready, true);
  assert.match(readiness({ ...base, standby: true, lastLeaseContact: 60_000, lastResync: 0 }).reason, /last read the lease 40 s ago/);
  assert.equal(readiness({ ...base, standby: true, lastLeaseContact: 0, lastResync: 0 }).ready, false);
  assert.equal(readiness({ ...base, standby: false, lastLeaseContact: 0, lastResync: 80_000 }).ready, true);
  assert.match(readiness({ ...base, standby: false, lastLeaseContact: 0, lastResync: 60_000 }).reason, /Environments last current 40 s ago/);
  assert.equal(readiness({ ...base, standby: false, lastLeaseContact: 99_000, lastResync: 0 }).ready, false, "a leader whose loop is not running is not ready");
});

test("metrics: prom-client exposition with the stable names; two agents keep separate registries", async () => {
  const a = new Metrics(), b = new Metrics();
  a.reconcileTotal.inc({ environment: "ns/prod", result: "success" });
  a.reconcileDuration.observe({ environment: "ns/prod" }, 1.5);
  a.leader.set(1);
  const text = await a.render();
  assert.match(text, /^baton_reconcile_total\{environment="ns\/prod",result="success"\} 1$/m);
  assert.match(text, /^baton_reconcile_duration_seconds_count\{environment="ns\/prod"\} 1$/m);
  assert.match(text, /^baton_reconcile_duration_seconds_sum\{environment="ns\/prod"\} 1.5$/m);
  assert.match(text, /^baton_leader 1$/m);
  assert.doesNotMatch(await b.render(), /ns\/prod/);
});

test("status patches send removed fields as null at any depth, so the stored status is the computed one", () => {
  const before = { health: "Current", release: { phase: "Paused 50%", step: 2, candidateImages: { web: "sha256:b" }, stableImages: { web: "sha256:a" } }, conditions: [{ type: "Ready" }, { type: "Stalled" }] };
  // A completed release drops step and candidateImages; the conditions array is replaced whole.
  assert.deepEqual(mergePatchFrom(before, { health: "Current", release: { phase: "Confirmed", stableImages: { web: "sha256:b" } }, conditions: [{ type: "Ready" }] }), {
    health: "Current", release: { phase: "Confirmed", step: null, candidateImages: null, stableImages: { web: "sha256:b" } }, conditions: [{ type: "Ready" }],
  });
  // The strategy removed from baton.yaml: status.release goes; an undefined value counts as absent.
  assert.deepEqual(mergePatchFrom(before, { health: "Current", release: undefined, conditions: [] }), { health: "Current", release: null, conditions: [] });
  assert.deepEqual(mergePatchFrom(undefined, { health: "Current" }), { health: "Current" });
});
