// Safe on a shared cluster, on the real control plane with one fixture and one agent for every case:
// ownership (another Environment's object, a Helm-owned object, another tool's object, adoption,
// spec.force), prune guards (a Namespace and a CRD removed from git while still in use), namespace
// discipline (another namespace and a cluster-scoped object, under --no-cross-namespace-objects) and
// impersonation (--default-service-account, spec.serviceAccountName, the access preflight).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { agentFixture, isReady, readyCondition, type AgentFixture } from "../support/agent-fixture.js";
import { ENV_API_VERSION, ENV_KIND, type EnvironmentObject } from "../../src/agent/environment.js";
import type { RunningAgent } from "../../src/agent/agent.js";
import type { KubeObject } from "../../src/config/objects.js";
import { waitFor } from "../support/processes.js";
import { ApiProxy } from "../support/api-proxy.js";
import { AccessReviews } from "../../src/kube/access.js";

const A = "environments/a";
const B = "environments/b";
const G = "environments/guards";
const S = "environments/scoped";
const I = "environments/imp";

const cm = (name: string, data: Record<string, string>, meta = ""): string =>
  `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n${meta}data:\n${Object.entries(data).map(([k, v]) => `  ${k}: "${v}"`).join("\n")}\n`;

let f: AgentFixture;
let agent: RunningAgent;
/** Team B's namespace: its Environment is also called `prod`. */
let nsB: string;
const extraNamespaces: string[] = [];
/** Counts the impersonating agent's requests (last case). */
let proxy: ApiProxy | undefined;

before(async () => {
  f = await agentFixture("tenancy", { [`${A}/config.yaml`]: cm("config", { MODE: "a" }) });
  nsB = `${f.namespace}-b`;
  await f.client.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: nsB } });
  agent = await f.startAgent({ namespace: `${f.namespace},${nsB}` });
});

after(async () => {
  for (const ns of [nsB, ...extraNamespaces]) await f.client.delete({ group: "", version: "v1", kind: "Namespace", name: ns }).catch(() => undefined);
  await f.cleanup();
  await proxy?.stop();
});

async function waitForEnv(namespace: string, name: string, what: string, predicate: (e: EnvironmentObject) => boolean): Promise<EnvironmentObject> {
  return waitFor(`${namespace}/${name}: ${what}`, async () => {
    const e = (await f.client.get(ENV_API_VERSION, ENV_KIND, namespace, name)) as EnvironmentObject | undefined;
    return e && predicate(e) ? e : undefined;
  }, 60_000, 200);
}

const trigger = (name: string) => agent.controller.trigger(`${f.namespace}/${name}`, "test");

/** The Environment's Events of `reason`, once there is one (they are written off the run's critical path). */
async function events(namespace: string, name: string, reason: string): Promise<string[]> {
  return waitFor(`${namespace}/${name}: a ${reason} Event`, async () => {
    const list = await f.client.list("v1", "Event", namespace);
    const found = list.filter((e) => (e.involvedObject as { name?: string }).name === name && e.reason === reason).map((e) => String(e.message));
    return found.length > 0 ? found : undefined;
  }, 30_000, 200);
}

const configMap = (namespace: string, name: string) => f.client.get("v1", "ConfigMap", namespace, name);
const dataOf = async (namespace: string, name: string) => (await configMap(namespace, name))?.data as Record<string, string> | undefined;

test("ownership: another Environment's, Helm's and another tool's objects are never taken or pruned; adopt and spec.force work as documented", async () => {
  // Team B's Environment has the same name as team A's and writes one object into team A's namespace.
  await f.repo.commit({
    [`${B}/config.yaml`]: cm("config", { MODE: "b" }, `  namespace: ${nsB}\n`),
    [`${B}/shared.yaml`]: cm("shared", { OWNER: "b" }, `  namespace: ${f.namespace}\n`),
  }, "b shares into a's namespace");
  await f.client.create({ apiVersion: ENV_API_VERSION, kind: ENV_KIND, metadata: { name: "prod", namespace: nsB }, spec: { url: f.repo.url, path: B, interval: "1h", timeout: "60s" } });
  await f.createEnvironment("prod", { path: A });
  // A Helm release's object, as `helm install` leaves it, and one made with `kubectl create`.
  await f.client.create({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "helm-cm", namespace: f.namespace, labels: { "app.kubernetes.io/managed-by": "Helm" }, annotations: { "meta.helm.sh/release-name": "web", "meta.helm.sh/release-namespace": f.namespace } }, data: { FROM: "helm" } });
  await f.client.request("POST", `/api/v1/namespaces/${f.namespace}/configmaps?fieldManager=kubectl-create`, { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "manual" }, data: { FROM: "kubectl" } });
  await waitForEnv(nsB, "prod", "B Ready", (e) => isReady(e));
  await f.waitForEnvironment("prod", "A Ready", (e) => isReady(e));
  assert.equal((await configMap(f.namespace, "config"))?.metadata.labels?.["baton.dev/environment-namespace"], f.namespace);
  assert.equal((await configMap(nsB, "config"))?.metadata.labels?.["baton.dev/environment-namespace"], nsB);

  // 1. A's git now claims B's, Helm's and kubectl's objects: nothing is applied, every owner is named.
  const claim = await f.repo.commit({
    [`${A}/shared.yaml`]: cm("shared", { OWNER: "a" }),
    [`${A}/helm-cm.yaml`]: cm("helm-cm", { FROM: "baton" }),
    [`${A}/manual.yaml`]: cm("manual", { FROM: "baton" }),
    [`${A}/new.yaml`]: cm("new", { A: "1" }),
  }, "a claims others' objects");
  trigger("prod");
  const stalled = await f.waitForEnvironment("prod", "ownership conflict", (e) => e.status?.lastAttemptedRevision === claim && readyCondition(e)?.status === "False");
  const message = readyCondition(stalled)?.message ?? "";
  assert.equal(readyCondition(stalled)?.reason, "OwnershipConflict");
  assert.equal(stalled.status?.conditions?.find((c) => c.type === "Stalled")?.status, "True");
  assert.match(message, new RegExp(`ConfigMap ${f.namespace}/shared already exists and belongs to Environment ${nsB}/prod`));
  assert.match(message, new RegExp(`ConfigMap ${f.namespace}/helm-cm already exists and belongs to Helm release ${f.namespace}/web`));
  assert.match(message, new RegExp(`ConfigMap ${f.namespace}/manual already exists and belongs to field manager kubectl-create`));
  assert.match((await events(f.namespace, "prod", "Stalled")).join("\n"), /belongs to Helm release/);
  assert.deepEqual(await dataOf(f.namespace, "shared"), { OWNER: "b" });
  assert.deepEqual(await dataOf(f.namespace, "helm-cm"), { FROM: "helm" });
  assert.deepEqual(await dataOf(f.namespace, "manual"), { FROM: "kubectl" });
  assert.equal(await configMap(f.namespace, "new"), undefined, "nothing is applied while a conflict stands");
  // 1b. The same in a namespace of many objects, where each claimed object is read by itself (a GET each,
  //     not a LIST of the whole namespace): the same owners are named, nothing is applied.
  await Promise.all(Array.from({ length: 60 }, (_, i) => f.client.create({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: `filler-${i}`, namespace: f.namespace, labels: { filler: "true" } }, data: {} })));
  const lastRun = () => agent.controller.environments().find((e) => e.key === `${f.namespace}/prod`)?.lastResult;
  const before = lastRun();
  trigger("prod");
  const rerun = await waitFor("a run with many objects in the namespace", async () => (lastRun() !== before ? lastRun() : undefined), 60_000, 100);
  assert.equal(rerun?.error?.code, "OWNERSHIP_CONFLICT");
  const again = (await f.client.get(ENV_API_VERSION, ENV_KIND, f.namespace, "prod")) as EnvironmentObject;
  assert.equal(readyCondition(again)?.message, message, "the same conflicts, found with one GET per claimed object");
  assert.equal(await configMap(f.namespace, "new"), undefined);
  await f.client.request("DELETE", `/api/v1/namespaces/${f.namespace}/configmaps?labelSelector=filler%3Dtrue`);

  // 2. Adoption takes Helm's object; another Environment's object cannot be adopted, so A lets go of it.
  const adopt = await f.repo.commit({
    [`${A}/shared.yaml`]: null,
    [`${A}/manual.yaml`]: null,
    [`${A}/helm-cm.yaml`]: cm("helm-cm", { FROM: "baton" }, "  annotations:\n    baton.dev/adopt: \"true\"\n"),
  }, "adopt helm-cm");
  trigger("prod");
  await f.waitForEnvironment("prod", "Ready after adoption", (e) => isReady(e, adopt));
  assert.deepEqual(await dataOf(f.namespace, "helm-cm"), { FROM: "baton" });
  assert.equal((await configMap(f.namespace, "helm-cm"))?.metadata.labels?.["baton.dev/environment-namespace"], f.namespace);

  // 3. A never prunes what no longer carries its labels: an object relabelled to B (what a Baton that
  //    labelled by name only could confuse) stays, and so does B's object of the same name.
  await f.client.mergePatch("v1", "ConfigMap", f.namespace, "new", { metadata: { labels: { "baton.dev/environment-namespace": nsB } } });
  const removed = await f.repo.commit({ [`${A}/new.yaml`]: null }, "a drops new");
  trigger("prod");
  await f.waitForEnvironment("prod", "Ready after removal", (e) => isReady(e, removed));
  assert.ok(await configMap(f.namespace, "new"), "an object labelled as another Environment's is not pruned");
  assert.deepEqual(await dataOf(f.namespace, "shared"), { OWNER: "b" });

  // 4. Migration: an object labelled by name only (an earlier Baton) that A's inventory lists is still A's.
  await f.client.request("PATCH", `/api/v1/namespaces/${f.namespace}/configmaps/config`, [{ op: "remove", path: "/metadata/labels/baton.dev~1environment-namespace" }], { contentType: "application/json-patch+json" });
  await f.client.mergePatch(ENV_API_VERSION, ENV_KIND, f.namespace, "prod", { spec: { interval: "59m" } });
  await f.waitForEnvironment("prod", "Ready after the spec change", (e) => isReady(e) && e.status?.observedGeneration === e.metadata.generation);
  assert.equal((await configMap(f.namespace, "config"))?.metadata.labels?.["baton.dev/environment-namespace"], f.namespace, "the namespace label is added back");

  // 5. spec.force: another server-side applier takes a field of A's object; without force A reports it,
  //    with force git wins.
  await f.client.apply({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "config", namespace: f.namespace }, data: { MODE: "other" } } as KubeObject, { fieldManager: "other-tool", force: true });
  trigger("prod");
  const conflict = await f.waitForEnvironment("prod", "field conflict reported", (e) => readyCondition(e)?.status === "False" && /other-tool/.test(readyCondition(e)?.message ?? ""));
  assert.match(readyCondition(conflict)?.message ?? "", /spec\.force/);
  assert.deepEqual(await dataOf(f.namespace, "config"), { MODE: "other" });
  await f.client.mergePatch(ENV_API_VERSION, ENV_KIND, f.namespace, "prod", { spec: { force: true } });
  await f.waitForEnvironment("prod", "Ready with force", (e) => isReady(e) && e.status?.observedGeneration === e.metadata.generation);
  assert.deepEqual(await dataOf(f.namespace, "config"), { MODE: "a" });
});

test("prune guards: a Namespace in use and a CRD with custom resources are held back, and go once free", async () => {
  const suffix = Date.now().toString(36);
  const extra = `guard-${suffix}`;
  extraNamespaces.push(extra);
  const group = `g${suffix}.example.com`;
  const crd = `widgets.${group}`;
  const crdYaml = `apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: ${crd}\nspec:\n  group: ${group}\n  scope: Namespaced\n  names: {kind: Widget, plural: widgets, singular: widget, listKind: WidgetList}\n  versions:\n    - name: v1\n      served: true\n      storage: true\n      schema:\n        openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}\n`;
  await f.repo.commit({
    [`${G}/namespace.yaml`]: `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${extra}\n`,
    [`${G}/in-extra.yaml`]: cm("in-extra", { A: "1" }, `  namespace: ${extra}\n`),
    // Stays in git throughout (a render of zero objects prunes nothing).
    [`${G}/stay.yaml`]: cm("stay", { A: "1" }, `  namespace: ${f.namespace}\n`),
    [`${G}/crd.yaml`]: crdYaml,
    [`${G}/widget.yaml`]: `apiVersion: ${group}/v1\nkind: Widget\nmetadata:\n  name: w1\n  namespace: ${f.namespace}\nspec: {size: 1}\n`,
  }, "guards");
  const crdId = { group: "apiextensions.k8s.io", version: "v1", kind: "CustomResourceDefinition", name: crd };
  try {
    // No targetNamespace: this Environment places objects in two namespaces.
    await f.createEnvironment("guards", { path: G, targetNamespace: undefined });
    await f.waitForEnvironment("guards", "Ready", (e) => isReady(e) && e.status?.inventory?.entries.length === 5);
    // Something Baton does not manage lives in the extra namespace too.
    await f.client.create({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "tenant-data", namespace: extra }, data: { keep: "me" } });
    const inInventory = (e: EnvironmentObject, kind: string) => e.status?.inventory?.entries.some((x) => x.id.endsWith(`_${kind}`)) === true;

    // 1. The Namespace and the CRD leave git while objects in them stay in git: both are held back.
    const first = await f.repo.commit({ [`${G}/namespace.yaml`]: null, [`${G}/crd.yaml`]: null }, "drop namespace and crd");
    trigger("guards");
    let env = await f.waitForEnvironment("guards", "held back", (e) => isReady(e, first));
    assert.match(readyCondition(env)?.message ?? "", new RegExp(`Namespace ${extra}: not pruned yet: it holds v1 ConfigMap ${extra}/in-extra, which is still in git`));
    assert.match(readyCondition(env)?.message ?? "", new RegExp(`CustomResourceDefinition ${crd.replace(/\./g, "\\.")}: not pruned yet: custom resources of it still exist \\(e\\.g\\. Widget ${f.namespace}/w1\\)`));
    assert.ok(inInventory(env, "Namespace") && inInventory(env, "CustomResourceDefinition"), "held-back objects stay in the inventory");
    assert.ok(await f.client.get("v1", "Namespace", undefined, extra));
    assert.ok(await f.client.get("apiextensions.k8s.io/v1", "CustomResourceDefinition", undefined, crd));
    assert.match((await events(f.namespace, "guards", "PruneSkipped")).join("\n"), /not pruned yet/);

    // 2. Their contents leave git too: Baton's objects go, the CRD goes with its last resource, and the
    //    Namespace stays because of the object Baton does not manage.
    const second = await f.repo.commit({ [`${G}/in-extra.yaml`]: null, [`${G}/widget.yaml`]: null }, "drop contents");
    trigger("guards");
    env = await f.waitForEnvironment("guards", "namespace still held", (e) => isReady(e, second));
    assert.match(readyCondition(env)?.message ?? "", new RegExp(`it holds v1 ConfigMap ${extra}/tenant-data, which Baton is not pruning`));
    assert.equal(await configMap(extra, "in-extra"), undefined);
    assert.equal(await f.client.get("apiextensions.k8s.io/v1", "CustomResourceDefinition", undefined, crd), undefined);
    assert.ok(inInventory(env, "Namespace") && !inInventory(env, "CustomResourceDefinition"));

    // 3. Once the namespace is free, the retried prune deletes it.
    await f.client.delete({ group: "", version: "v1", kind: "ConfigMap", namespace: extra, name: "tenant-data" });
    trigger("guards");
    env = await f.waitForEnvironment("guards", "namespace pruned", (e) => isReady(e, second) && !inInventory(e, "Namespace"));
    const ns = await f.client.get("v1", "Namespace", undefined, extra);
    assert.ok(!ns || ns.metadata.deletionTimestamp, "the namespace is deleted");
  } finally {
    await f.client.delete(crdId).catch(() => undefined);
  }
});

test("namespace discipline: with --no-cross-namespace-objects, another namespace and a cluster-scoped kind the Environment does not list are refused, nothing applied", async () => {
  // A second agent, locked down, for the Environments of its own namespace.
  const nsL = `${f.namespace}-l`;
  extraNamespaces.push(nsL);
  const clusterRole = `${nsL}-reader`;
  const rbac = "rbac.authorization.k8s.io/v1";
  await f.client.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: nsL } });
  const scoped = await f.repo.commit({
    [`${S}/inside.yaml`]: cm("inside", { A: "1" }, `  namespace: ${nsL}\n`),
    [`${S}/outside.yaml`]: cm("outside", { A: "1" }, `  namespace: ${nsB}\n`),
    [`${S}/clusterrole.yaml`]: `apiVersion: ${rbac}\nkind: ClusterRole\nmetadata:\n  name: ${clusterRole}\nrules: []\n`,
  }, "scoped");
  try {
    const locked = await f.startAgent({ namespace: nsL, noCrossNamespaceObjects: true });
    await f.client.create({ apiVersion: ENV_API_VERSION, kind: ENV_KIND, metadata: { name: "scoped", namespace: nsL }, spec: { url: f.repo.url, path: S, interval: "1h", timeout: "60s" } });

    // 1. Refused, every object named with what the Environment may do; nothing applied.
    let env = await waitForEnv(nsL, "scoped", "scope refused", (e) => e.status?.lastAttemptedRevision === scoped && readyCondition(e)?.status === "False");
    const message = readyCondition(env)?.message ?? "";
    assert.equal(readyCondition(env)?.reason, "ScopeForbidden");
    assert.equal(env.status?.conditions?.find((c) => c.type === "Stalled")?.status, "True");
    assert.match(message, new RegExp(`v1 ConfigMap ${nsB}/outside is in namespace ${nsB}; this Environment may write only to ${nsL}`));
    assert.match(message, new RegExp(`ClusterRole ${clusterRole} is cluster-scoped; this Environment may write only these cluster-scoped kinds: none`));
    assert.equal(await configMap(nsL, "inside"), undefined, "nothing is applied");
    assert.equal(await f.client.get(rbac, "ClusterRole", undefined, clusterRole), undefined);

    // 2. A cluster admin grants the ClusterRole kind on the Environment; the other namespace leaves git.
    const fixed = await f.repo.commit({ [`${S}/outside.yaml`]: null }, "stay at home");
    await f.client.mergePatch(ENV_API_VERSION, ENV_KIND, nsL, "scoped", { spec: { allowedClusterResources: [{ group: "rbac.authorization.k8s.io", kind: "ClusterRole" }] } });
    locked.controller.trigger(`${nsL}/scoped`, "test");
    env = await waitForEnv(nsL, "scoped", "Ready once granted", (e) => isReady(e, fixed));
    assert.ok(await f.client.get(rbac, "ClusterRole", undefined, clusterRole));
    assert.ok(await configMap(nsL, "inside"));
  } finally {
    await f.client.delete({ group: "rbac.authorization.k8s.io", version: "v1", kind: "ClusterRole", name: clusterRole }).catch(() => undefined);
  }
});

test("impersonation: every write is made as the Environment's ServiceAccount; a missing permission names the object and nothing is applied", async () => {
  const nsI = `${f.namespace}-i`;
  extraNamespaces.push(nsI);
  const rbac = "rbac.authorization.k8s.io/v1";
  await f.client.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: nsI } });
  // The agent's default ServiceAccount may manage ConfigMaps and only read Deployments.
  await f.client.create({ apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "deployer", namespace: nsI } });
  await f.client.create({ apiVersion: rbac, kind: "Role", metadata: { name: "deployer", namespace: nsI }, rules: [
    { apiGroups: [""], resources: ["configmaps"], verbs: ["get", "list", "watch", "create", "patch", "update", "delete"] },
    { apiGroups: ["apps"], resources: ["deployments"], verbs: ["get", "list", "watch"] },
  ] });
  await f.client.create({ apiVersion: rbac, kind: "RoleBinding", metadata: { name: "deployer", namespace: nsI }, roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "deployer" }, subjects: [{ kind: "ServiceAccount", name: "deployer", namespace: nsI }] });
  const deployment = `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: imp-web\nspec:\n  replicas: 0\n  selector:\n    matchLabels: {app: imp-web}\n  template:\n    metadata:\n      labels: {app: imp-web}\n    spec:\n      containers:\n        - name: web\n          image: ghcr.io/acme/web@sha256:${"1".repeat(64)}\n`;
  const both = await f.repo.commit({ [`${I}/config.yaml`]: cm("imp-config", { A: "1" }), [`${I}/deploy.yaml`]: deployment }, "imp");
  // Behind a proxy that counts its access reviews; allowed answers are kept longer than this test takes.
  proxy = await ApiProxy.start();
  const locked = await f.startAgent({ namespace: nsI, defaultServiceAccount: "deployer" }, { kubeConfig: proxy.kubeConfig(), hooks: { accessReviews: new AccessReviews(10 * 60_000) } });
  const counted = proxy;
  const reviews = () => counted.forwarded.filter((r) => r.method === "POST" && r.path.endsWith("/selfsubjectaccessreviews")).length;
  const create = (name: string, spec: Record<string, unknown> = {}) => f.client.create({ apiVersion: ENV_API_VERSION, kind: ENV_KIND, metadata: { name, namespace: nsI }, spec: { url: f.repo.url, path: I, targetNamespace: nsI, interval: "1h", timeout: "60s", ...spec } });
  await create("imp");
  // spec.serviceAccountName wins over the default: an account without any grant may not even read.
  await create("nobody", { serviceAccountName: "nobody" });

  // 1. The default ServiceAccount may not write Deployments: the reconcile names the object and the
  //    ServiceAccount, and applies nothing, not even the ConfigMap it may write.
  const env = await waitForEnv(nsI, "imp", "forbidden", (e) => e.status?.lastAttemptedRevision === both && readyCondition(e)?.status === "False");
  assert.equal(readyCondition(env)?.reason, "Forbidden");
  assert.match(readyCondition(env)?.message ?? "", new RegExp(`forbidden: ServiceAccount ${nsI}/deployer may not (patch|create) deployments\\.apps in namespace ${nsI}, needed for apps/v1 Deployment ${nsI}/imp-web; nothing was applied`));
  assert.equal(await configMap(nsI, "imp-config"), undefined, "nothing is half-applied");
  const nobody = await waitForEnv(nsI, "nobody", "forbidden", (e) => e.status?.lastAttemptedRevision === both && readyCondition(e)?.status === "False");
  assert.equal(readyCondition(nobody)?.reason, "Forbidden");
  assert.match(readyCondition(nobody)?.message ?? "", new RegExp(`system:serviceaccount:${nsI}:nobody`));

  // 2. Without the Deployment, the ServiceAccount's rights are enough: applied as the ServiceAccount.
  await f.client.delete({ group: "baton.dev", version: "v1alpha1", kind: ENV_KIND, namespace: nsI, name: "nobody" });
  const allowed = await f.repo.commit({ [`${I}/deploy.yaml`]: null }, "configmaps only");
  locked.controller.trigger(`${nsI}/imp`, "test");
  await waitForEnv(nsI, "imp", "Ready as the ServiceAccount", (e) => isReady(e, allowed));
  assert.deepEqual(await dataOf(nsI, "imp-config"), { A: "1" });

  // 3. Allowed answers are reused (per identity, verb, resource and namespace; 30 s by default, longer
  //    here): the next push's run asks nothing again, and still writes as the ServiceAccount.
  const asked = reviews();
  assert.ok(asked > 0, "the runs above asked the API server");
  const again = await f.repo.commit({ [`${I}/config.yaml`]: cm("imp-config", { A: "2" }) }, "imp again");
  locked.controller.trigger(`${nsI}/imp`, "test");
  await waitForEnv(nsI, "imp", "Ready at the next commit", (e) => isReady(e, again));
  assert.deepEqual(await dataOf(nsI, "imp-config"), { A: "2" });
  assert.equal(reviews(), asked, "no access review asked again for a permission allowed moments ago");
});
