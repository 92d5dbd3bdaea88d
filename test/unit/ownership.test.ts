import { test } from "node:test";
import assert from "node:assert/strict";
import { objectId, type KubeObject, type RenderedObject } from "../../src/config/objects.js";
import { withOwnershipLabels } from "../../src/kube/desired.js";
import { inventoryKey } from "../../src/kube/inventory.js";
import { classifyExisting, crdBlocker, namespaceBlocker, ownershipConflicts, ownershipOf, pruneRefusal } from "../../src/kube/ownership.js";

const teamA = { namespace: "team-a", name: "prod" };
const teamB = { namespace: "team-b", name: "prod" };
const cm = (metadata: Partial<KubeObject["metadata"]> = {}): KubeObject => ({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c", namespace: "apps", ...metadata } });
const managed = (...managers: Array<[string, string]>) => ({ managedFields: managers.map(([manager, operation]) => ({ manager, operation })) });
const rendered = (object: KubeObject): RenderedObject => ({ id: objectId(object), object, source: { file: "env/c.yaml", line: 1 } });
const helmCm = () => cm({ labels: { "app.kubernetes.io/managed-by": "Helm" }, annotations: { "meta.helm.sh/release-name": "web", "meta.helm.sh/release-namespace": "apps" } });

test("owner labels carry the Environment's namespace and name", () => {
  assert.deepEqual(withOwnershipLabels(cm(), teamA).metadata.labels, { "app.kubernetes.io/managed-by": "baton", "baton.dev/environment": "prod", "baton.dev/environment-namespace": "team-a" });
});

test("an object of a same-named Environment in another namespace is foreign and never adoptable", () => {
  const theirs = withOwnershipLabels(cm(), teamB);
  assert.deepEqual(ownershipOf(theirs, teamA, false), { state: "foreign", owner: "Environment team-b/prod", adoptable: false });
  assert.deepEqual(ownershipOf(theirs, teamA, true), { state: "foreign", owner: "Environment team-b/prod", adoptable: false });
  assert.deepEqual(ownershipOf(theirs, teamB, false), { state: "ours" });
  assert.equal(pruneRefusal(theirs, teamA), "no longer labelled as this Environment's; left in place");
  assert.equal(pruneRefusal(theirs, teamB), undefined);
});

test("objects labelled by an earlier Baton (name only) are ours when our inventory lists them", () => {
  const legacy = cm({ labels: { "baton.dev/environment": "prod" } });
  assert.deepEqual(ownershipOf(legacy, teamA, true), { state: "ours" });
  assert.equal(ownershipOf(legacy, teamA, false).state, "foreign");
  assert.equal(pruneRefusal(legacy, teamA), undefined, "the caller prunes only what the inventory lists");
  assert.match(pruneRefusal(cm({ labels: { "baton.dev/environment": "staging" } }), teamA) ?? "", /no longer labelled/);
});

test("Helm and other field managers own what they created; Baton-only or unmanaged objects are free", () => {
  assert.deepEqual(ownershipOf(helmCm(), teamA, false), { state: "foreign", owner: "Helm release apps/web", adoptable: true });
  assert.deepEqual(ownershipOf(helmCm(), teamA, true), { state: "foreign", owner: "Helm release apps/web", adoptable: true }, "Helm's object stays Helm's even if once applied");
  assert.deepEqual(ownershipOf(cm(managed(["kubectl-create", "Update"], ["argocd-controller", "Apply"])), teamA, false),
    { state: "foreign", owner: "field managers argocd-controller, kubectl-create", adoptable: true });
  assert.deepEqual(ownershipOf(cm(managed(["baton", "Apply"])), teamA, false), { state: "free" });
  assert.deepEqual(ownershipOf(cm(), teamA, false), { state: "free" });
  // Our own object whose labels someone removed: still ours (drift), since our inventory lists it.
  assert.deepEqual(ownershipOf(cm(managed(["baton", "Apply"], ["kubectl-label", "Update"])), teamA, true), { state: "ours" });
  assert.match(pruneRefusal(cm(managed(["baton", "Apply"])), teamA) ?? "", /no longer labelled/, "unlabelled objects are never pruned");
  assert.equal(pruneRefusal(withOwnershipLabels(cm({ annotations: { "baton.dev/prune": "disabled" } }), teamA), teamA), "baton.dev/prune: disabled");
});

test("classifying existing objects: ours and free are live, foreign ones only when git adopts them", () => {
  const plain = rendered(withOwnershipLabels(cm(), teamA));
  const adopting = rendered(withOwnershipLabels(cm({ annotations: { "baton.dev/adopt": "true" } }), teamA));
  const key = "/ConfigMap/apps/c";
  const helm = classifyExisting(teamA, [plain], new Set(), [helmCm()]);
  assert.equal(helm.live.size, 0);
  assert.deepEqual(helm.foreign.get(key), { state: "foreign", owner: "Helm release apps/web", adoptable: true });
  assert.ok(classifyExisting(teamA, [adopting], new Set(), [helmCm()]).live.has(key), "adopted: applied over");
  const other = classifyExisting(teamA, [adopting], new Set(), [withOwnershipLabels(cm(), teamB)]);
  assert.equal(other.live.size, 0, "another Environment's object is never adopted");
  assert.ok(classifyExisting(teamA, [plain], new Set([inventoryKey(plain.id)]), [cm({ labels: { "baton.dev/environment": "prod" } })]).live.has(key), "migration from name-only labels");
  assert.equal(classifyExisting(teamA, [plain], new Set(), [cm({ name: "not-desired" })]).live.size, 0, "objects that are not desired are ignored");
});

test("conflicts name the other owner and the file; baton.dev/adopt lifts them except for another Environment's object", () => {
  const plain = rendered(cm());
  const adopting = rendered(cm({ annotations: { "baton.dev/adopt": "true" } }));
  const key = "/ConfigMap/apps/c";
  const helm = new Map([[key, { state: "foreign" as const, owner: "Helm release apps/web", adoptable: true }]]);
  const other = new Map([[key, { state: "foreign" as const, owner: "Environment team-b/prod", adoptable: false }]]);
  const [conflict] = ownershipConflicts([plain], helm);
  assert.equal(conflict?.code, "OWNERSHIP_CONFLICT");
  assert.equal(conflict?.message, "v1 ConfigMap apps/c already exists and belongs to Helm release apps/web");
  assert.equal(conflict?.file, "env/c.yaml");
  assert.match(conflict?.hint ?? "", /baton\.dev\/adopt: "true"/);
  assert.deepEqual(ownershipConflicts([adopting], helm), []);
  const [refused] = ownershipConflicts([adopting], other);
  assert.equal(refused?.message, "v1 ConfigMap apps/c already exists and belongs to Environment team-b/prod");
  assert.deepEqual(ownershipConflicts([plain], new Map()), []);
});

test("a Namespace is held back while it holds objects in git or objects Baton is not pruning", () => {
  const listing = (kind: string, items: KubeObject[], group = "") => ({ group, kind, items });
  const item = (kind: string, name: string, extra: Partial<KubeObject["metadata"]> = {}): KubeObject => ({ apiVersion: "v1", kind, metadata: { name, namespace: "x", ...extra } });
  const staying = [{ group: "", version: "v1", kind: "ConfigMap", namespace: "x", name: "in-git" }];
  assert.equal(namespaceBlocker("x", staying, new Set(), []), "it holds v1 ConfigMap x/in-git, which is still in git");
  const defaults = [listing("ServiceAccount", [item("ServiceAccount", "default")]), listing("ConfigMap", [item("ConfigMap", "kube-root-ca.crt"), item("ConfigMap", "pruned")]),
    listing("Event", [item("Event", "e1")]), listing("Pod", [item("Pod", "p", { ownerReferences: [{ kind: "ReplicaSet" }] } as Partial<KubeObject["metadata"]>)])];
  assert.equal(namespaceBlocker("x", [], new Set(["/ConfigMap/x/pruned"]), defaults), undefined, "what Kubernetes and controllers put there, and what is pruned now, do not count");
  assert.equal(namespaceBlocker("x", [], new Set(), [listing("ConfigMap", [item("ConfigMap", "tenant-data")])]), "it holds v1 ConfigMap x/tenant-data, which Baton is not pruning");
  assert.match(namespaceBlocker("x", [], new Set(), [{ group: "example.com", kind: "Widget", apiVersion: "example.com/v1", unreadable: "HTTP 403" }]) ?? "", /example\.com\/v1 Widget \(cannot list: HTTP 403\)/);
  const many = [listing("Secret", ["a", "b", "c", "d", "e"].map((n) => item("Secret", n)))];
  assert.equal(namespaceBlocker("x", [], new Set(), many), "it holds v1 Secret x/a, v1 Secret x/b, v1 Secret x/c and 2 more, which Baton is not pruning");
});

test("a CRD is held back while a custom resource of it exists", () => {
  assert.equal(crdBlocker("Widget", []), undefined);
  assert.equal(crdBlocker("Widget", [{ apiVersion: "example.com/v1", kind: "Widget", metadata: { name: "w1", namespace: "apps" } }]),
    "custom resources of it still exist (e.g. Widget apps/w1); delete them first");
});
