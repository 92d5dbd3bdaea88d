import { test } from "node:test";
import assert from "node:assert/strict";
import type { KubeObject, RenderedObject } from "../../src/config/objects.js";
import { objectId, idKey } from "../../src/config/objects.js";
import { applyBatches, contentHash, applyStage, syncWave, withOwnershipLabels } from "../../src/kube/desired.js";
import { ignoredAnnotations } from "../../src/config/annotations.js";
import { inventoryKey, parseInventoryEntry } from "../../src/kube/inventory.js";
import { comparable, firstDifference, planChanges, projectLike } from "../../src/kube/plan.js";
import { sameQuantity } from "../../src/kube/quantity.js";

const cm = (name: string, data: Record<string, string>): KubeObject => ({ apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace: "apps" }, data });
const rendered = (object: KubeObject): RenderedObject => ({ id: objectId(object), object, source: { file: "f.yaml", line: 1 } });

test("firstDifference ignores what live adds and reports what desired sets differently", () => {
  assert.equal(firstDifference({ a: 1, b: { c: "x" } }, { a: 1, b: { c: "x", d: 2 }, status: {} }), undefined);
  assert.equal(firstDifference({ a: 1, b: { c: "x" } }, { a: 1, b: { c: "y" } }), "b.c");
  assert.equal(firstDifference({ l: [1, 2] }, { l: [1] }), "l");
  assert.equal(firstDifference({ port: 8080 }, { port: "8080" }), undefined);
  assert.equal(firstDifference({ gone: null }, { gone: "x" }), undefined);
});

test("Secrets compare stringData against stored base64 data", () => {
  const secret: KubeObject = { apiVersion: "v1", kind: "Secret", metadata: { name: "s" }, stringData: { token: "abc" } };
  assert.deepEqual(comparable(secret).data, { token: Buffer.from("abc").toString("base64") });
  assert.equal(firstDifference(comparable(secret), { ...secret, stringData: undefined, data: { token: "YWJj" } }), undefined);
});

test("planChanges: create, update (content changed since last apply), drift (live edited), unchanged, prune", () => {
  const a = rendered(cm("a", { k: "1" }));
  const b = rendered(cm("b", { k: "2" }));
  const c = rendered(cm("c", { k: "3" }));
  const d = rendered(cm("d", { k: "4" }));
  const live = new Map<string, KubeObject>([
    [idKey(b.id), cm("b", { k: "old" })],
    [idKey(c.id), cm("c", { k: "edited by hand" })],
    [idKey(d.id), cm("d", { k: "4" })],
  ]);
  const previous = [
    { id: inventoryKey(b.id), v: "v1", h: "stale-hash" },
    { id: inventoryKey(c.id), v: "v1", h: contentHash(c.object) },
    { id: inventoryKey(d.id), v: "v1", h: contentHash(d.object) },
    { id: "apps_gone__ConfigMap", v: "v1", h: "x" },
  ];
  const plan = planChanges([a, b, c, d], live, previous);
  assert.deepEqual(plan.objects.map((o) => `${o.desired.id.name}:${o.action}`), ["a:create", "b:update", "c:drift", "d:unchanged"]);
  assert.equal(plan.objects[2]?.reason, "data.k");
  assert.deepEqual(plan.prune, [{ group: "", version: "v1", kind: "ConfigMap", namespace: "apps", name: "gone" }]);
});

test("inventory keys round-trip, hashes ignore key order, stages put CRDs and Namespaces first", () => {
  const id = { group: "apps", version: "v1", kind: "Deployment", namespace: "web", name: "api" };
  assert.deepEqual(parseInventoryEntry({ id: inventoryKey(id), v: "v1" }), id);
  assert.equal(contentHash(cm("x", { a: "1", b: "2" })), contentHash({ data: { b: "2", a: "1" }, metadata: { namespace: "apps", name: "x" }, kind: "ConfigMap", apiVersion: "v1" }));
  assert.equal(applyStage({ apiVersion: "v1", kind: "Namespace", metadata: { name: "n" } }), 0);
  assert.equal(applyStage(cm("x", {})), 1);
  assert.equal(withOwnershipLabels(cm("x", {}), { namespace: "team-a", name: "staging" }).metadata.labels?.["baton.dev/environment"], "staging");
});

test("projectLike keeps only the fields desired talks about", () => {
  assert.deepEqual(projectLike({ spec: { replicas: 2 } }, { spec: { replicas: 3, paused: false }, status: { x: 1 } }), { spec: { replicas: 3 } });
});

test("quantities are compared by value, as the API server normalises them", () => {
  assert.equal(sameQuantity("0.5", "500m"), true);
  assert.equal(sameQuantity(0.5, "500m"), true);
  assert.equal(sameQuantity("1Gi", "1024Mi"), true);
  assert.equal(sameQuantity("1.5Gi", "1536Mi"), true);
  assert.equal(sameQuantity("1e3", "1k"), true);
  assert.equal(sameQuantity("1000m", 1), true);
  assert.equal(sameQuantity("1G", "1Gi"), false);
  assert.equal(sameQuantity("501m", "0.5"), false);
  assert.equal(sameQuantity("abc", "abc"), false, "not a quantity");
  const container = (resources: unknown) => ({ spec: { template: { spec: { containers: [{ name: "web", resources }] } } } });
  assert.equal(firstDifference(container({ limits: { cpu: 0.5, memory: "1024Mi" } }), container({ limits: { cpu: "500m", memory: "1Gi" } })), undefined);
  assert.equal(firstDifference(container({ limits: { cpu: "0.6" } }), container({ limits: { cpu: "500m" } })), "spec.template.spec.containers[0].resources.limits.cpu");
  assert.equal(firstDifference({ spec: { limits: [{ type: "Container", max: { memory: "2048Mi" } }] } }, { spec: { limits: [{ type: "Container", max: { memory: "2Gi" } }] } }), undefined);
  assert.equal(firstDifference({ data: { size: "1024Mi" } }, { data: { size: "1Gi" } }), "data.size", "a ConfigMap value is text, not a quantity");
  assert.equal(firstDifference({ spec: { ports: [{ port: 80, targetPort: "8080" }] } }, { spec: { ports: [{ port: "80", targetPort: 8080 }] } }), undefined, "int-or-string");
  assert.equal(firstDifference({ metadata: { annotations: {} }, spec: { tolerations: [] } }, { metadata: {}, spec: {} }), undefined, "empty maps and lists are absent on the server");
});

test("Argo CD sync waves order the apply after CRDs and Namespaces; a wave that is not an integer is wave 0 and listed by validate", () => {
  const waved = (name: string, wave?: string): KubeObject => ({ ...cm(name, {}), metadata: { name, namespace: "apps", ...(wave === undefined ? {} : { annotations: { "argocd.argoproj.io/sync-wave": wave } }) } });
  const ns: KubeObject = { apiVersion: "v1", kind: "Namespace", metadata: { name: "apps", annotations: { "argocd.argoproj.io/sync-wave": "5" } } };
  const objects = [waved("late", "2"), waved("plain"), ns, waved("early", "-1"), waved("typo", "one"), waved("also-late", " 2 ")];
  assert.deepEqual(applyBatches(objects, (o) => o).map((batch) => batch.map((o) => o.metadata.name)), [["apps"], ["early"], ["plain", "typo"], ["late", "also-late"]]);
  assert.equal(syncWave(waved("x", "-3")), -3);
  const hook: KubeObject = { ...cm("hook", {}), metadata: { name: "hook", namespace: "apps", annotations: { "helm.sh/hook": "pre-install", "kustomize.toolkit.fluxcd.io/prune": "disabled" } } };
  const ignored = ignoredAnnotations([waved("typo", "one"), waved("late", "2"), hook].map(rendered));
  assert.deepEqual(ignored.map((i) => `${i.object} ${i.annotation}`), ["v1 ConfigMap apps/typo argocd.argoproj.io/sync-wave", "v1 ConfigMap apps/hook helm.sh/hook", "v1 ConfigMap apps/hook kustomize.toolkit.fluxcd.io/prune"]);
  assert.match(ignored[1]?.instead ?? "", /never as a hook/);
});
