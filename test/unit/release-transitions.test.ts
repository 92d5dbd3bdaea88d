// release.yaml transitions (pure) and the commands' dry runs: every move of a release is a file edit.
import { test } from "node:test";
import assert from "node:assert/strict";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parse } from "yaml";
import type { Strategy } from "../../src/config/pipeline.js";
import { afterPromotion, afterRollback, abort, confirm, retire } from "../../src/release/transitions.js";
import { strategySteps } from "../../src/release/strategy.js";
import type { ReleaseState } from "../../src/release/slots.js";
import { changeRelease } from "../../src/promote/release.js";
import { promote } from "../../src/promote/promote.js";
import { releaseEvent, releaseStatus } from "../../src/release/status.js";
import { decideRelease, type LiveRelease } from "../../src/release/decide.js";

const A = `sha256:${"a".repeat(64)}`;
const B = `sha256:${"b".repeat(64)}`;
const WEB = "ghcr.io/acme/web";
const canary: Strategy = { type: "canary", router: "gatewayAPI", route: "web", steps: [{ setWeight: 10 }, { pause: "10m" }, { setWeight: 50 }, { pause: {} }], autoAbort: "pr" };
const blueGreen: Strategy = { type: "blueGreen", router: "service", route: "web", autoAbort: "pr" };

function state(strategy: Strategy, step: number | undefined, extra: Partial<ReleaseState> = {}): ReleaseState {
  const steps = strategySteps(strategy);
  const current = step === undefined ? undefined : steps[step];
  return {
    stableSlot: "blue", candidateSlot: "green", stableImages: { [WEB]: A }, pinnedImages: { [WEB]: step === undefined ? A : B }, steps,
    weight: current?.weight ?? 0, ...(current ? { step: current } : {}), ...extra,
  };
}

test("a promotion of the route's image starts a release at step 0 and gives up an unretired old slot", () => {
  const next = afterPromotion(state(blueGreen, undefined, { previousImages: { [WEB]: B }, outcome: "Confirmed" }), { [WEB]: B });
  assert.deepEqual(next, { apiVersion: "baton.dev/v1alpha1", kind: "Release", stable: { slot: "blue", images: { [WEB]: A } }, step: 0 });
  // Images that are not behind the route start nothing; promoting the stable digest back is steady state.
  assert.equal(afterPromotion(state(blueGreen, undefined), { "ghcr.io/acme/worker": B }), undefined);
  assert.equal(afterPromotion(state(canary, 1), { [WEB]: A })?.step, undefined);
});

test("confirm walks the canary steps one commit at a time; --all and the last step complete", () => {
  const s1 = confirm("prod", canary, state(canary, 1));
  assert.equal(s1.release.step, 2);
  assert.equal(s1.summary, "step 3/4 (weight 50%)");
  assert.equal(s1.complete, false);
  const done = confirm("prod", canary, state(canary, 3));
  assert.equal(done.complete, true);
  assert.deepEqual(done.release, { apiVersion: "baton.dev/v1alpha1", kind: "Release", stable: { slot: "green", images: { [WEB]: B } }, outcome: "Confirmed" });
  assert.deepEqual(confirm("prod", canary, state(canary, 0), true).release, done.release);
  // retireAfter keeps the old slot (and its digests) until the promoter retires it.
  const kept = confirm("prod", { ...blueGreen, retireAfter: "10m" }, state(blueGreen, 0));
  assert.deepEqual(kept.release.previous, { images: { [WEB]: A } });
  assert.deepEqual(retire("prod", { ...state(blueGreen, undefined), stableSlot: "green", candidateSlot: "blue", previousImages: { [WEB]: A }, outcome: "Confirmed" }).release,
    { apiVersion: "baton.dev/v1alpha1", kind: "Release", stable: { slot: "green", images: { [WEB]: A } }, outcome: "Confirmed" });
});

test("abort restores the stable digests and rejects the candidate's; nothing to confirm or abort in steady state", () => {
  const t = abort("prod", state(canary, 2));
  assert.deepEqual(t.restore, { [WEB]: A });
  assert.deepEqual(t.rejected, { [WEB]: B });
  assert.equal(t.release.outcome, "Aborted");
  assert.equal(t.release.step, undefined);
  assert.throws(() => abort("prod", state(canary, undefined)), { code: "RELEASE_NOTHING" });
  assert.throws(() => confirm("prod", canary, state(canary, undefined)), { code: "RELEASE_NOTHING" });
});

test("rollback in a strategy environment: the restored digests become stable; flip back only to an old slot that still runs them", () => {
  const completed = { ...state(blueGreen, undefined), stableSlot: "green" as const, candidateSlot: "blue" as const, stableImages: { [WEB]: B }, pinnedImages: { [WEB]: B }, outcome: "Confirmed" as const };
  const release = (slot: string, images: Record<string, string>, extra = {}) => ({ apiVersion: "baton.dev/v1alpha1", kind: "Release", stable: { slot, images }, ...extra });
  // Not retired yet: the old slot runs A at full size, so traffic flips back without a rollout.
  assert.deepEqual(afterRollback({ ...completed, previousImages: { [WEB]: A } }, { [WEB]: A }), release("blue", { [WEB]: A }));
  // Retired (or another digest): the stable slot rolls to A in place; traffic never moves to an empty slot.
  assert.deepEqual(afterRollback(completed, { [WEB]: A }), release("green", { [WEB]: A }));
  assert.deepEqual(afterRollback({ ...completed, previousImages: { [WEB]: B } }, { [WEB]: A }), release("green", { [WEB]: A }));
  // During a release the candidate goes and the release ends as Aborted; images not behind the route are ignored.
  assert.deepEqual(afterRollback(state(canary, 2), { [WEB]: A, "ghcr.io/acme/worker": B }), release("blue", { [WEB]: A }, { outcome: "Aborted" }));
});

async function copyFixture(name: string): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "baton-release-"));
  await fs.cp(path.resolve(import.meta.dirname, "../fixtures/release", name), dir, { recursive: true });
  await fs.rm(path.join(dir, "expected.yaml"));
  return dir;
}

test("baton abort --dry-run: one diff with the folder back on stable, release.yaml ended, the digest rejected", async () => {
  const dir = await copyFixture("canary-step1");
  const result = await changeRelease({ repo: dir, env: "production", action: "abort", dryRun: true, now: () => new Date("2026-01-01T00:00:00Z") });
  assert.equal(result.action, "dry-run");
  assert.deepEqual(result.rejected, [{ repository: WEB, digest: B }]);
  assert.match(result.diff, /^-\s+image: ghcr\.io\/acme\/web:1\.5\.0@sha256:b{64}$/m);
  assert.match(result.diff, /^\+\s+image: ghcr\.io\/acme\/web@sha256:a{64}$/m);
  assert.match(result.diff, /^\+outcome: Aborted$/m);
  assert.match(result.diff, /^\+\s+reason: release aborted \(manual\)$/m);
});

test("baton promote into a blue-green environment writes step 0 in the same commit", async () => {
  const dir = await copyFixture("bluegreen-steady");
  // A pipeline with a source environment pinning B.
  await fs.mkdir(path.join(dir, "src-env"));
  await fs.writeFile(path.join(dir, "src-env/app.yaml"), (await fs.readFile(path.join(dir, "env/app.yaml"), "utf8")).replace(A, B));
  await fs.writeFile(path.join(dir, "baton.yaml"), (await fs.readFile(path.join(dir, "baton.yaml"), "utf8")).replace("environments:\n", "environments:\n  - name: staging\n    path: src-env\n    namespace: shop\n").replace("    namespace: shop\n    strategy:", "    namespace: shop\n    promoteFrom: staging\n    strategy:"));
  const result = await promote({ repo: dir, from: "staging", to: "production", dryRun: true });
  assert.equal(result.action, "dry-run");
  const added = result.diff.split("\n").filter((l) => l.startsWith("+") && !l.startsWith("+++")).map((l) => l.slice(1)).join("\n");
  assert.match(result.diff, /^\+\+\+ b\/env\/release\.yaml$/m);
  assert.deepEqual(parse(added.slice(added.indexOf("apiVersion"))), { apiVersion: "baton.dev/v1alpha1", kind: "Release", stable: { slot: "blue", images: { [WEB]: A } }, step: 0 });
});

test("the Environment's release status: phase events, and the healthy clock of a step survives only the same step", () => {
  assert.equal(releaseEvent("Progressing", "PendingConfirmation"), "release.pending");
  assert.equal(releaseEvent("PendingConfirmation", "Confirmed"), "release.confirmed");
  assert.equal(releaseEvent("Paused 50%", "Aborted"), "release.aborted");
  assert.equal(releaseEvent("Confirmed", "Confirmed"), undefined);
  assert.equal(releaseEvent("Stable", "Progressing"), undefined);
  const output = (step: number) => ({ state: state(canary, step), objects: [], workloads: ["web"], route: { kind: "HTTPRoute" as const, name: "web" } });
  const t0 = new Date("2026-01-01T10:00:00Z");
  const first = releaseStatus("canary", output(1), undefined, true, t0);
  assert.deepEqual(first, { phase: "Paused 10%", strategy: "canary", weight: 10, steps: 4, step: 2, stableSlot: "blue", stableImages: { [WEB]: A }, candidateImages: { [WEB]: B }, healthySince: t0.toISOString() });
  const later = new Date("2026-01-01T10:05:00Z");
  assert.equal(releaseStatus("canary", output(1), first, true, later).healthySince, t0.toISOString());
  assert.equal(releaseStatus("canary", output(2), first, true, later).healthySince, later.toISOString());
  assert.equal(releaseStatus("canary", output(1), first, false, later).healthySince, undefined);
});

test("the promoter's decision: advance healthy weights and finished pauses, wait for confirmation, abort failures, retire after retireAfter", () => {
  const now = new Date("2026-01-01T10:10:00Z");
  const report = (step: number | undefined, healthySince?: string) => releaseStatus("canary", { state: state(canary, step), objects: [], workloads: [], route: { kind: "HTTPRoute" as const, name: "web" } }, undefined, healthySince !== undefined, new Date(healthySince ?? now));
  const live = (step: number | undefined, healthySince?: string, extra: Partial<LiveRelease> = {}): LiveRelease => ({ release: report(step, healthySince), ready: healthySince !== undefined, healthFailed: false, ...extra });
  assert.equal(decideRelease(canary, state(canary, 0), live(0, "2026-01-01T10:09:59Z"), now).action, "advance");
  assert.equal(decideRelease(canary, state(canary, 1), live(1, "2026-01-01T10:05:00Z"), now).action, "wait", "5 of 10 minutes");
  assert.equal(decideRelease(canary, state(canary, 1), live(1, "2026-01-01T10:00:00Z"), now).action, "advance", "10 minutes healthy");
  assert.deepEqual(decideRelease(canary, state(canary, 3), live(3, "2026-01-01T09:00:00Z"), now), { action: "wait", reason: "waits for baton confirm" });
  // A report about another step (the agent has not applied the commit yet) never moves anything.
  assert.equal(decideRelease(canary, state(canary, 2), live(1, "2026-01-01T09:00:00Z"), now).action, "wait");
  const failed = live(2, undefined, { healthFailed: true, message: "Deployment web-green: ProgressDeadlineExceeded" });
  assert.deepEqual(decideRelease(canary, state(canary, 2), failed, now), { action: "abort", reason: "the candidate failed its health check: Deployment web-green: ProgressDeadlineExceeded" });
  assert.equal(decideRelease({ ...canary, autoAbort: "off" }, state(canary, 2), failed, now).action, "wait");
  const completed = { ...state(canary, undefined), previousImages: { [WEB]: B } };
  const steady = (since: string): LiveRelease => ({ release: { ...report(undefined, since) }, ready: true, healthFailed: false });
  assert.equal(decideRelease({ ...canary, retireAfter: "15m" }, completed, steady("2026-01-01T10:00:00Z"), now).action, "wait");
  assert.equal(decideRelease({ ...canary, retireAfter: "5m" }, completed, steady("2026-01-01T10:00:00Z"), now).action, "retire");
});

test("retiring the old slot is a commit that drops previous from release.yaml (dry run)", async () => {
  const dir = await copyFixture("bluegreen-confirmed");
  const result = await changeRelease({ repo: dir, env: "production", action: "retire", dryRun: true });
  assert.equal(result.summary, "retire slot blue");
  assert.match(result.diff, /^-previous:$/m);
  assert.doesNotMatch(result.diff, /^\+previous/m);
  assert.match(result.diff, /^ outcome: Confirmed$/m);
  await assert.rejects(changeRelease({ repo: await copyFixture("bluegreen-steady"), env: "production", action: "retire", dryRun: true }), { code: "RELEASE_NOTHING" });
});
