// Progressive delivery rendering: golden outputs per release state, and every step of a canary.
import { test } from "node:test";
import assert from "node:assert/strict";
import { promises as fs } from "node:fs";
import path from "node:path";
import { findEnvironment, loadPipeline, type Strategy } from "../../src/config/pipeline.js";
import { renderEnvironment } from "../../src/config/render.js";
import type { KubeObject, RenderedObject } from "../../src/config/objects.js";
import { renderText } from "../../src/cli/render.js";
import { renderForApply } from "../../src/release/render.js";
import { renderStrategy, slotReplicas, SLOT_LABEL, type ReleaseState } from "../../src/release/slots.js";
import { releasePhase } from "../../src/release/describe.js";
import type { Release } from "../../src/release/release.js";

const fixtures = path.resolve(import.meta.dirname, "../fixtures/release");
const A = `sha256:${"a".repeat(64)}`;
const B = `sha256:${"b".repeat(64)}`;

for (const name of (await fs.readdir(fixtures)).sort()) {
  test(`golden ${name}: baton render prints exactly the expected objects`, async () => {
    const dir = path.join(fixtures, name);
    const pipeline = await loadPipeline(dir);
    const env = findEnvironment(pipeline, "production");
    const text = renderText(env, await renderForApply(dir, env));
    assert.equal(text, await fs.readFile(path.join(dir, "expected.yaml"), "utf8"));
  });
}

async function folderObjects(name: string): Promise<{ objects: RenderedObject[]; strategy: Strategy }> {
  const dir = path.join(fixtures, name);
  const env = findEnvironment(await loadPipeline(dir), "production");
  return { objects: (await renderEnvironment(dir, env)).objects, strategy: env.strategy as Strategy };
}

const find = (objects: RenderedObject[], kind: string, name: string): KubeObject => {
  const found = objects.find((o) => o.id.kind === kind && o.id.name === name);
  assert.ok(found, `${kind} ${name} not rendered; got ${objects.map((o) => `${o.id.kind}/${o.id.name}`).join(", ")}`);
  return found.object;
};
const spec = (o: KubeObject) => o.spec as Record<string, unknown>;
const replicasOf = (objects: RenderedObject[], name: string) => spec(find(objects, "Deployment", name)).replicas;
const imageOf = (objects: RenderedObject[], name: string) =>
  ((spec(find(objects, "Deployment", name)).template as { spec: { containers: Array<{ image: string }> } }).spec.containers[0] as { image: string }).image;
interface Rule { matches?: Array<{ headers?: Array<{ name: string; value: string; type: string }> }>; backendRefs: Array<{ name: string; weight?: number }> }
const rulesOf = (objects: RenderedObject[]) => (spec(find(objects, "HTTPRoute", "web")).rules as Rule[]);

test("release.yaml is read, never rendered as an object", async () => {
  const { objects } = await folderObjects("canary-step1");
  assert.ok(objects.every((o) => o.object.kind !== "Release"), "the plain renderer skips release.yaml");
  assert.deepEqual(objects.map((o) => o.id.kind).sort(), ["ConfigMap", "Deployment", "HTTPRoute", "Service"]);
});

test("every step of a 3-weight canary with an A/B rule: weights, header rules, replicas, phase", async () => {
  const { objects, strategy } = await folderObjects("canary-step1");
  const release = (step: number): Release => ({ apiVersion: "baton.dev/v1alpha1", kind: "Release", stable: { slot: "green", images: { "ghcr.io/acme/web": A } }, step });
  const seen = [0, 1, 2, 3].map((step) => {
    const out = renderStrategy({ envName: "production", envIndex: 0, strategy, objects, release: release(step), releaseFile: "env/release.yaml" });
    const rules = rulesOf(out.objects);
    // Two rules in git → each gets an A/B twin in front of it while a candidate is out.
    assert.equal(rules.length, 4);
    const ab = rules.filter((r) => r.matches?.some((m) => m.headers?.some((h) => h.name === "X-Canary" && h.value === "always" && h.type === "Exact")));
    assert.equal(ab.length, 2);
    for (const r of ab) assert.deepEqual(r.backendRefs.map((b) => b.name), ["web-blue"], "header traffic goes to the candidate only");
    const weighted = rules.filter((r) => !ab.includes(r)).map((r) => r.backendRefs.map((b) => `${b.name}=${b.weight}`).join(" "));
    return { weights: weighted[0], replicas: `${String(replicasOf(out.objects, "web-green"))}/${String(replicasOf(out.objects, "web-blue"))}`, phase: releasePhase(out.state), image: imageOf(out.objects, "web-blue") };
  });
  assert.deepEqual(seen.map((s) => s.weights), ["web-green=90 web-blue=10", "web-green=90 web-blue=10", "web-green=50 web-blue=50", "web-green=50 web-blue=50"]);
  // Stable keeps 4 replicas; the candidate gets ⌈4·w/100⌉.
  assert.deepEqual(seen.map((s) => s.replicas), ["4/1", "4/1", "4/2", "4/2"]);
  assert.deepEqual(seen.map((s) => s.phase), ["Progressing", "Paused 10%", "Progressing", "Paused 50%"]);
  assert.ok(seen.every((s) => s.image.endsWith(B)), "the candidate slot runs the pinned digest");
});

test("steady state on the gateway router: all weight on stable, no A/B rule, the idle slot at zero replicas", async () => {
  const { objects, strategy } = await folderObjects("canary-steady");
  const out = renderStrategy({ envName: "production", envIndex: 0, strategy, objects, releaseFile: "env/release.yaml" });
  assert.deepEqual(rulesOf(out.objects).map((r) => r.backendRefs.map((b) => `${b.name}=${b.weight}`).join(" ")), ["web-blue=100 web-green=0", "web-blue=100 web-green=0"]);
  assert.equal(replicasOf(out.objects, "web-green"), 0);
  assert.equal(releasePhase(out.state), "Stable");
  // In-cluster clients of the app Service keep reaching the stable slot.
  assert.deepEqual(spec(find(out.objects, "Service", "web")).selector, { app: "web", [SLOT_LABEL]: "blue" });
  assert.deepEqual(spec(find(out.objects, "Service", "web-green")).selector, { app: "web", [SLOT_LABEL]: "green" });
});

test("blue-green on the service router: pending at weight 0 with a full-size preview, confirm flips the selector", async () => {
  const pending = await renderForApply(path.join(fixtures, "bluegreen-pending"), findEnvironment(await loadPipeline(path.join(fixtures, "bluegreen-pending")), "production"));
  assert.equal(releasePhase(pending.release?.state as ReleaseState), "PendingConfirmation");
  assert.deepEqual(spec(find(pending.objects, "Service", "web")).selector, { app: "web", [SLOT_LABEL]: "blue" });
  assert.deepEqual(spec(find(pending.objects, "Service", "web-preview")).selector, { app: "web", [SLOT_LABEL]: "green" });
  assert.equal(replicasOf(pending.objects, "web-green"), 4);
  assert.ok(imageOf(pending.objects, "web-blue").endsWith(A) && imageOf(pending.objects, "web-green").endsWith(B));

  const confirmed = await renderForApply(path.join(fixtures, "bluegreen-confirmed"), findEnvironment(await loadPipeline(path.join(fixtures, "bluegreen-confirmed")), "production"));
  assert.equal(releasePhase(confirmed.release?.state as ReleaseState), "Confirmed");
  assert.deepEqual(spec(find(confirmed.objects, "Service", "web")).selector, { app: "web", [SLOT_LABEL]: "green" });
  // The old slot keeps the old digest at full size until it is retired.
  assert.equal(replicasOf(confirmed.objects, "web-blue"), 4);
  assert.ok(imageOf(confirmed.objects, "web-blue").endsWith(A));
});

test("a canary on the service router is a replica ratio: the route selects both slots while a step is current", async () => {
  const { objects } = await folderObjects("bluegreen-pending");
  const strategy: Strategy = { type: "canary", router: "service", route: "web", steps: [{ setWeight: 25 }, { pause: {} }], autoAbort: "pr" };
  const release: Release = { apiVersion: "baton.dev/v1alpha1", kind: "Release", stable: { slot: "blue", images: { "ghcr.io/acme/web": A } }, step: 1 };
  const out = renderStrategy({ envName: "production", envIndex: 0, strategy, objects, release, releaseFile: "env/release.yaml" });
  assert.deepEqual(spec(find(out.objects, "Service", "web")).selector, { app: "web" });
  assert.equal(replicasOf(out.objects, "web-blue"), 3);
  assert.equal(replicasOf(out.objects, "web-green"), 1);
});

test("slot replicas: blue-green doubles during the release, a canary rounds up and never runs zero candidates", () => {
  const state = (weight: number, step: boolean): ReleaseState => ({
    stableSlot: "blue", candidateSlot: "green", stableImages: {}, pinnedImages: {}, steps: [], weight,
    ...(step ? { step: { index: 0, weight, kind: "pause" as const } } : {}),
  });
  const bg: Strategy = { type: "blueGreen", router: "service", route: "web", autoAbort: "pr" };
  const canary: Strategy = { type: "canary", router: "gatewayAPI", route: "web", steps: [{ setWeight: 1 }], autoAbort: "pr" };
  assert.deepEqual(slotReplicas(bg, state(0, true), 3), { blue: 3, green: 3 });
  assert.deepEqual(slotReplicas(bg, state(0, false), 3), { blue: 3, green: 0 });
  assert.deepEqual(slotReplicas(canary, state(1, true), 10), { blue: 10, green: 1 });
  assert.deepEqual(slotReplicas(canary, state(33, true), 10), { blue: 10, green: 4 });
  assert.deepEqual(slotReplicas(canary, state(0, true), 10), { blue: 10, green: 1 });
});
