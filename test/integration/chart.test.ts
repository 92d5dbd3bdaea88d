// The Helm chart: lint and template (default and non-default values, bad values rejected), applied to the
// real control plane, and the agent running with only the chart's RBAC (a ServiceAccount token from the
// TokenRequest API): it reconciles inside its namespaces, is refused outside them, and its access
// preflight (no impersonation) names an object it may not write and applies nothing. Installed in
// multi-tenant lockdown, the agent's own RBAC is checked verb by verb with SelfSubjectAccessReviews and
// an agent reconciles by impersonation with nothing more.
import { test } from "node:test";
import assert from "node:assert/strict";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { credentialsFor } from "../../src/kube/credentials.js";
import type { ClusterCredentials } from "../../src/kube/credentials.js";
import { startAgent } from "../../src/agent/agent.js";
import { parseAgentConfig } from "../../src/agent/config.js";
import { ENV_API_VERSION, ENV_KIND, type EnvironmentObject } from "../../src/agent/environment.js";
import type { KubeObject } from "../../src/config/objects.js";
import { KubeApiError, KubeClient } from "../../src/kube/client.js";
import { createLogger } from "../../src/log.js";
import { chartDir as chart, helm, helmTemplate as template } from "../support/chart.js";
import { ConfigRepo, digest, underPath, webApp } from "../support/config-repo.js";
import { GitServer } from "../support/git-server.js";
import { waitFor } from "../support/processes.js";
import { testCluster, testKubeConfig } from "../support/testenv.js";

/** The shared control plane seen with a ServiceAccount's token instead of the admin's. */
function tokenKubeConfig(token: string): ClusterCredentials {
  const admin = testCluster();
  return credentialsFor({ source: "a ServiceAccount token", server: admin.server, tls: { caFile: admin.tls.caFile, insecureSkipTlsVerify: false }, user: { token } });
}

/** What the apiserver says `client`'s own identity may do (the SelfSubjectAccessReview the preflight asks too). */
async function mayI(client: KubeClient, attributes: { verb: string; resource: string; group?: string; namespace?: string; name?: string; subresource?: string }): Promise<boolean> {
  const review = await client.request<{ status?: { allowed?: boolean } }>("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", {
    apiVersion: "authorization.k8s.io/v1", kind: "SelfSubjectAccessReview", spec: { resourceAttributes: { group: "", ...attributes } },
  });
  return review.status?.allowed === true;
}

const rulesOf = (objects: KubeObject[]) => (objects.find((o) => o.kind === "ClusterRole")?.rules ?? []) as Array<{ verbs: string[] }>;

test("helm lint passes and templates render for default and non-default values; bad values are rejected", async () => {
  await helm("lint", chart);
  const defaults = await template("baton-system", {});
  const kinds = defaults.map((o) => o.kind).sort();
  assert.deepEqual(kinds, ["ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition", "Deployment", "PodDisruptionBudget", "Role", "RoleBinding", "Service", "ServiceAccount"]);
  const deploy = defaults.find((o) => o.kind === "Deployment") as KubeObject & { spec: { replicas: number; template: { spec: { securityContext: Record<string, unknown>; containers: Array<Record<string, unknown> & { securityContext: Record<string, unknown> }> } } } };
  assert.equal(deploy.spec.replicas, 2);
  const pod = deploy.spec.template.spec;
  assert.equal(pod.securityContext.runAsNonRoot, true);
  assert.deepEqual(pod.securityContext.seccompProfile, { type: "RuntimeDefault" });
  assert.equal(pod.containers[0]?.securityContext.readOnlyRootFilesystem, true);
  assert.equal(pod.containers[0]?.securityContext.allowPrivilegeEscalation, false);

  const custom = await template("baton-system", {
    replicaCount: 1, agent: { renewDeadline: "8s", retryPeriod: "1500ms", gitTimeout: "2m", gitMaxBytes: 1048576, noCrossNamespaceObjects: true }, rbac: { mode: "namespaced", namespaces: ["team-a", "team-b"] }, webhook: { secret: "s", ingress: { enabled: true, host: "hooks.example.com" } },
    serviceMonitor: { enabled: true }, networkPolicy: { enabled: true, metricsFrom: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } } }] }, image: { digest: `sha256:${"a".repeat(64)}` }, environments: [{ name: "staging", namespace: "team-a", spec: { url: "https://git.example.com/c.git", path: "environments/staging" } }],
  });
  const customKinds = custom.map((o) => `${o.kind}/${o.metadata.namespace ?? ""}`).sort();
  assert.ok(customKinds.includes("Role/team-a") && customKinds.includes("Role/team-b"));
  assert.ok(!customKinds.some((k) => k.startsWith("ClusterRole")), "namespaced mode creates no ClusterRole");
  assert.ok(customKinds.includes("Ingress/baton-system") && customKinds.includes("ServiceMonitor/baton-system") && customKinds.includes("Environment/team-a") && customKinds.includes("Secret/baton-system"));
  assert.ok(!customKinds.some((k) => k.startsWith("PodDisruptionBudget")), "no PDB for a single replica");
  const policy = custom.find((o) => o.kind === "NetworkPolicy")?.spec as { ingress: Array<{ ports: Array<{ port: string }>; from?: unknown[] }> } | undefined;
  assert.deepEqual(policy?.ingress.map((r) => [r.ports[0]?.port, r.from?.length ?? "any"]), [["http", "any"], ["metrics", 1]], "webhook from anywhere, metrics only from the monitoring namespace");
  assert.equal((custom.find((o) => o.kind === "ServiceMonitor")?.spec as { endpoints: Array<{ port: string }> }).endpoints[0]?.port, "metrics");
  const args = ((custom.find((o) => o.kind === "Deployment")?.spec as { template: { spec: { containers: Array<{ args: string[]; image: string }> } } }).template.spec.containers[0]);
  assert.ok(args?.args.includes("--namespace=team-a,team-b"));
  for (const flag of ["--renew-deadline=8s", "--retry-period=1500ms", "--git-timeout=2m", "--git-max-bytes=1048576"]) assert.ok(args?.args.includes(flag), `${flag} in ${args?.args.join(" ")}`);
  const defaultArgs = deploy.spec.template.spec.containers[0]?.args as string[];
  assert.ok(defaultArgs.includes("--git-max-bytes=67108864") && !defaultArgs.some((a) => a.startsWith("--renew-deadline")), "defaults leave the lease timings to the agent");
  assert.ok(args?.args.includes("--no-cross-namespace-objects"));
  assert.ok(!((deploy.spec.template.spec.containers[0]?.args ?? []) as string[]).includes("--no-cross-namespace-objects"), "off by default");
  assert.match(args?.image ?? "", /@sha256:a{64}$/);
  assert.ok(!defaultArgs.some((a) => a.startsWith("--registry-config")), "registries are read anonymously by default");

  // Registry credentials: a dockerconfigjson Secret mounted read-only as the file --registry-config reads.
  type PodSpec = { containers: Array<{ args: string[]; volumeMounts: Array<{ name: string; mountPath: string; readOnly?: boolean }> }>; volumes: Array<{ name: string; secret?: unknown }> };
  const withRegistry = ((await template("baton-system", { agent: { registryConfigSecret: "ghcr-pull" } })).find((o) => o.kind === "Deployment")?.spec as { template: { spec: PodSpec } }).template.spec;
  assert.ok(withRegistry.containers[0]?.args.includes("--registry-config=/etc/baton/registry/config.json"));
  assert.deepEqual(withRegistry.containers[0]?.volumeMounts.find((m) => m.name === "registry-config"), { name: "registry-config", mountPath: "/etc/baton/registry", readOnly: true });
  assert.deepEqual(withRegistry.volumes.find((v) => v.name === "registry-config")?.secret, { secretName: "ghcr-pull", items: [{ key: ".dockerconfigjson", path: "config.json" }] });
  await assert.rejects(template("baton-system", { agent: { registryConfigSecret: "Not A Name" } }), /registryConfigSecret/);

  // Multi-tenant lockdown: the agent may impersonate ServiceAccounts and read git Secrets, and manage no object itself.
  const locked = await template("baton-system", { defaultServiceAccount: "deployer", agent: { noCrossNamespaceObjects: true } });
  const rules = (locked.find((o) => o.kind === "ClusterRole")?.rules ?? []) as Array<{ apiGroups: string[]; resources: string[]; verbs: string[] }>;
  assert.deepEqual(rules.find((r) => r.verbs.includes("impersonate")), { apiGroups: [""], resources: ["serviceaccounts"], verbs: ["impersonate"] });
  assert.deepEqual(rules.flatMap((r) => r.resources).filter((r) => ["configmaps", "deployments", "namespaces", "roles", "rolebindings"].includes(r)), [], "no managed resources for the agent itself");
  assert.deepEqual(rules.find((r) => r.resources.includes("secrets"))?.verbs, ["get"]);
  const lockedArgs = (locked.find((o) => o.kind === "Deployment")?.spec as { template: { spec: { containers: Array<{ args: string[] }> } } }).template.spec.containers[0]?.args ?? [];
  assert.ok(lockedArgs.includes("--default-service-account=deployer") && lockedArgs.includes("--no-cross-namespace-objects"));
  assert.ok(!rulesOf(defaults).some((r) => r.verbs.includes("impersonate")), "no impersonation without lockdown");
  await assert.rejects(template("baton-system", { defaultServiceAccount: "Not A Name" }), /defaultServiceAccount/);

  // Sharding: one Deployment (and PDB) per shard, each with its shard flags; pods of every shard behind the one Service.
  type Pods = { metadata: { name: string }; spec: { selector: { matchLabels: Record<string, string> }; template: { metadata: { labels: Record<string, string> }; spec: { containers: Array<{ args: string[] }> } } } };
  const sharded = await template("baton-system", { shards: 3 });
  const shardDeployments = sharded.filter((o) => o.kind === "Deployment") as unknown as Pods[];
  assert.deepEqual(shardDeployments.map((d) => d.metadata.name), ["baton-shard-0", "baton-shard-1", "baton-shard-2"]);
  assert.deepEqual(shardDeployments.map((d) => d.spec.template.spec.containers[0]?.args.filter((a) => a.startsWith("--shard"))), [0, 1, 2].map((i) => [`--shard=${i}`, "--shards=3"]));
  assert.deepEqual(shardDeployments.map((d) => d.spec.selector.matchLabels["baton.dev/shard"]), ["0", "1", "2"], "no Deployment selects another shard's pods");
  assert.deepEqual(sharded.filter((o) => o.kind === "PodDisruptionBudget").map((o) => o.metadata.name), ["baton-shard-0", "baton-shard-1", "baton-shard-2"]);
  const serviceSelector = (sharded.find((o) => o.kind === "Service")?.spec as { selector: Record<string, string> }).selector;
  assert.ok(shardDeployments.every((d) => Object.entries(serviceSelector).every(([k, v]) => d.spec.template.metadata.labels[k] === v)), "webhooks reach every shard's pods");
  assert.ok(!(deploy as unknown as Pods).spec.template.spec.containers[0]?.args.some((a) => a.startsWith("--shard")), "no shard flags without sharding");
  assert.equal(deploy.metadata.name, "baton", "an unsharded release keeps its Deployment name (its selector is immutable)");
  await assert.rejects(template("baton-system", { shards: 0 }), /shards/);

  // console.enabled: a read-only board in its own Deployment with its own read-only ServiceAccount.
  type Container = { args: string[]; env: Array<{ name: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }> };
  type ConsolePods = Pods & { spec: { template: { spec: { serviceAccountName: string; containers: Container[] } } } };
  const withConsole = await template("baton-system", { console: { enabled: true, repository: { url: "https://github.com/acme/config.git", existingSecret: "git-token" } } });
  const board = withConsole.find((o) => o.kind === "Deployment" && o.metadata.name === "baton-console") as unknown as ConsolePods | undefined;
  const boardArgs = board?.spec.template.spec.containers[0]?.args ?? [];
  for (const flag of ["console", "--read-only", "--listen=0.0.0.0", "--clone=https://github.com/acme/config.git", "--branch=main", "--pull=30s", "--in-cluster"]) assert.ok(boardArgs.includes(flag), `${flag} in ${boardArgs.join(" ")}`);
  assert.equal(board?.spec.template.spec.serviceAccountName, "baton-console", "its own ServiceAccount, not the agent's");
  assert.deepEqual(board?.spec.template.spec.containers[0]?.env.filter((e) => e.valueFrom).map((e) => [e.name, e.valueFrom?.secretKeyRef?.name, e.valueFrom?.secretKeyRef?.key]),
    [["BATON_CONSOLE_TOKEN", "baton-console", "token"], ["BATON_GIT_TOKEN", "git-token", "token"]]);
  assert.match(Buffer.from(String((withConsole.find((o) => o.kind === "Secret" && o.metadata.name === "baton-console")?.data as { token?: string } | undefined)?.token), "base64").toString(), /^[A-Za-z0-9]{32}$/);
  const boardRules = (withConsole.find((o) => o.kind === "ClusterRole" && o.metadata.name === "baton-console")?.rules ?? []) as Array<{ resources: string[]; verbs: string[] }>;
  assert.deepEqual(boardRules.map((r) => [r.resources, r.verbs]), [[["environments"], ["get", "list"]], [["events"], ["list"]]], "it reads Environments and Events and writes nothing");
  const boardService = withConsole.find((o) => o.kind === "Service" && o.metadata.name === "baton-console")?.spec as { selector: Record<string, string>; ports: Array<{ port: number }> } | undefined;
  assert.ok(Object.entries(boardService?.selector ?? {}).every(([k, v]) => board?.spec.template.metadata.labels[k] === v) && boardService?.ports[0]?.port === 7420);
  const agentSelector = (withConsole.find((o) => o.kind === "Deployment" && o.metadata.name === "baton")?.spec as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels;
  assert.ok(!Object.entries(agentSelector).every(([k, v]) => board?.spec.template.metadata.labels[k] === v), "the agent's Deployment, Service and PDB do not select the console's pod");
  const namespacedConsole = await template("baton-system", { rbac: { mode: "namespaced", namespaces: ["team-a", "team-b"] }, console: { enabled: true, tokenSecret: "mine", repository: { url: "https://github.com/acme/config.git" } } });
  assert.deepEqual(namespacedConsole.filter((o) => o.metadata.name === "baton-console" && (o.kind === "Role" || o.kind === "Secret")).map((o) => `${o.kind}/${o.metadata.namespace ?? ""}`).sort(), ["Role/team-a", "Role/team-b"], "a Role per namespace; no Secret when tokenSecret names one");
  assert.ok((namespacedConsole.find((o) => o.kind === "Deployment" && o.metadata.name === "baton-console") as unknown as ConsolePods).spec.template.spec.containers[0]?.args.includes("--namespace=team-a,team-b"));
  assert.ok(!defaults.some((o) => o.metadata.name === "baton-console"), "off by default");
  await assert.rejects(template("baton-system", { console: { enabled: true } }), /console\/repository/);
  // NOTES.txt (what `helm install` prints) tells how to reach the board: port-forward to its Service, its token.
  const installNotes = async (...set: string[]) => (await helm("install", "baton", chart, "--dry-run=client", "--namespace", "baton-system",
    "--kubeconfig", process.env.BATON_TEST_KUBECONFIG ?? "", ...set.flatMap((v) => ["--set", v]))).split("\nNOTES:\n")[1] ?? "";
  const notes = await installNotes("console.enabled=true", "console.repository.url=https://github.com/acme/config.git", "console.service.port=80");
  assert.match(notes, /^ {2}kubectl -n baton-system port-forward svc\/baton-console 7420:80$/m);
  assert.ok(notes.includes("http://127.0.0.1:7420/?token=$(kubectl -n baton-system get secret baton-console -o jsonpath='{.data.token}' | base64 -d)"), notes);
  assert.doesNotMatch(await installNotes(), /port-forward/, "no board, no line about it");

  await assert.rejects(template("baton-system", { rbac: { mode: "everywhere" } }), /rbac\/mode/);
  await assert.rejects(template("baton-system", { replicaCount: "two" }), /replicaCount/);
  await assert.rejects(template("baton-system", { agent: { gitTimeout: "soon" } }), /gitTimeout/);
});

test("the chart applies to the real control plane and its RBAC is enough, and no more, for the agent", async () => {
  const admin = new KubeClient(testKubeConfig());
  const suffix = Date.now().toString(36);
  const [system, teamA, teamB] = [`baton-system-${suffix}`, `team-a-${suffix}`, `team-b-${suffix}`];
  for (const ns of [system, teamA, teamB]) await admin.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: ns } });
  const server = await GitServer.create();
  const repo = await ConfigRepo.create(server, "config", underPath("environments/a", webApp(`ghcr.io/acme/web@${digest("chart")}`)));
  const cacheDir = await fs.mkdtemp(path.join(os.tmpdir(), "baton-chart-cache-"));
  let agent: Awaited<ReturnType<typeof startAgent>> | undefined;
  try {
    // Every object of the rendered chart is accepted by the API server.
    const objects = await template(system, { rbac: { mode: "namespaced", namespaces: [teamA] }, webhook: { secret: "s" }, networkPolicy: { enabled: true, metricsFrom: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } } }] } });
    assert.ok(objects.some((o) => o.kind === "NetworkPolicy"), "the NetworkPolicy is applied too");
    for (const obj of objects) await admin.apply(obj, { fieldManager: "helm-test", force: true });
    await admin.discover(true);
    const sa = objects.find((o) => o.kind === "ServiceAccount")?.metadata.name ?? "";
    const tokenRequest = await admin.request<{ status: { token: string } }>("POST", `/api/v1/namespaces/${system}/serviceaccounts/${sa}/token`, { apiVersion: "authentication.k8s.io/v1", kind: "TokenRequest", spec: { expirationSeconds: 3600 } });
    const kc = tokenKubeConfig(tokenRequest.status.token);

    // Refused outside its namespaces.
    const asAgent = new KubeClient(kc);
    await assert.rejects(asAgent.list(ENV_API_VERSION, ENV_KIND, teamB), (e: unknown) => e instanceof KubeApiError && e.status === 403);
    await assert.rejects(asAgent.list("v1", "ConfigMap", teamB), (e: unknown) => e instanceof KubeApiError && e.status === 403);
    await assert.rejects(asAgent.list(ENV_API_VERSION, ENV_KIND, undefined), (e: unknown) => e instanceof KubeApiError && e.status === 403);
    asAgent.close();

    // Reconciles inside them with only the chart's RBAC.
    const config = parseAgentConfig({ namespace: teamA, port: 0, bindAddress: "127.0.0.1", cacheDir, leaseNamespace: system, leaseName: "baton", identity: "chart-agent", resyncMs: 300, logLevel: "silent", allowInsecureHttp: true /* test git server: http on loopback */ });
    agent = await startAgent(config, createLogger("silent"), kc);
    await admin.create({ apiVersion: ENV_API_VERSION, kind: ENV_KIND, metadata: { name: "a", namespace: teamA }, spec: { url: repo.url, path: "environments/a", targetNamespace: teamA, interval: "1h", timeout: "60s" } });
    const ready = await waitFor("Environment Ready under chart RBAC", async () => {
      const env = (await admin.get(ENV_API_VERSION, ENV_KIND, teamA, "a")) as EnvironmentObject | undefined;
      return env?.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ? env : undefined;
    }, 60_000);
    assert.equal(ready.status?.inventory?.entries.length, 3);
    assert.ok(await admin.get("apps/v1", "Deployment", teamA, "web"));

    // With targetNamespace, a manifest naming another namespace still lands in the Environment's.
    const sneaky = `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: sneaky\n  namespace: ${teamB}\ndata: {a: "1"}\n`;
    const outside = await repo.commit({ "environments/a/outside.yaml": sneaky, "environments/b/outside.yaml": sneaky }, "reach into team-b");
    agent.controller.trigger(`${teamA}/a`, "test");
    await waitFor("sneaky placed in team-a", async () => {
      const env = (await admin.get(ENV_API_VERSION, ENV_KIND, teamA, "a")) as EnvironmentObject | undefined;
      return env?.status?.lastAppliedRevision === outside && (await admin.get("v1", "ConfigMap", teamA, "sneaky")) ? true : undefined;
    }, 30_000);
    // Without it, the manifest's namespace is outside the chart's list: refused by RBAC and reported.
    await admin.create({ apiVersion: ENV_API_VERSION, kind: ENV_KIND, metadata: { name: "b", namespace: teamA }, spec: { url: repo.url, path: "environments/b", interval: "1h", timeout: "60s" } });
    const refused = await waitFor("apply outside the namespaces refused", async () => {
      const env = (await admin.get(ENV_API_VERSION, ENV_KIND, teamA, "b")) as EnvironmentObject | undefined;
      const cond = env?.status?.conditions?.find((c) => c.type === "Ready");
      return env?.status?.lastAttemptedRevision === outside && cond?.status === "False" ? cond : undefined;
    }, 30_000);
    assert.match(refused.message, /forbidden|403/i);
    assert.equal(await admin.get("v1", "ConfigMap", teamB, "sneaky"), undefined);

    // The access preflight without impersonation: the agent itself may read LimitRanges but not write
    // them. The reconcile names the object, and applies nothing, not even the ConfigMap it may write.
    const rbacV1 = "rbac.authorization.k8s.io/v1";
    await admin.create({ apiVersion: rbacV1, kind: "Role", metadata: { name: "read-limits", namespace: teamA }, rules: [{ apiGroups: [""], resources: ["limitranges"], verbs: ["get", "list", "watch"] }] });
    await admin.create({ apiVersion: rbacV1, kind: "RoleBinding", metadata: { name: "read-limits", namespace: teamA }, roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "read-limits" }, subjects: [{ kind: "ServiceAccount", name: sa, namespace: system }] });
    const limits = await repo.commit({
      "environments/c/half.yaml": `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: half\ndata: {a: "1"}\n`,
      "environments/c/limits.yaml": "apiVersion: v1\nkind: LimitRange\nmetadata:\n  name: limits\nspec:\n  limits:\n    - type: Container\n      default: {cpu: 500m}\n",
    }, "a LimitRange the agent may not write");
    await admin.create({ apiVersion: ENV_API_VERSION, kind: ENV_KIND, metadata: { name: "c", namespace: teamA }, spec: { url: repo.url, path: "environments/c", targetNamespace: teamA, interval: "1h", timeout: "60s" } });
    const denied = await waitFor("the preflight refuses the LimitRange", async () => {
      const env = (await admin.get(ENV_API_VERSION, ENV_KIND, teamA, "c")) as EnvironmentObject | undefined;
      const cond = env?.status?.conditions?.find((c) => c.type === "Ready");
      return env?.status?.lastAttemptedRevision === limits && cond?.status === "False" ? env : undefined;
    }, 30_000);
    const deniedReady = denied.status?.conditions?.find((c) => c.type === "Ready");
    assert.equal(deniedReady?.reason, "Forbidden");
    // Server-side apply of an object that does not exist needs both patch and create: both are named.
    const line = (verb: string) => `environments/c/limits.yaml: forbidden: the agent may not ${verb} limitranges in namespace ${teamA}, needed for v1 LimitRange ${teamA}/limits; nothing was applied [v1 LimitRange ${teamA}/limits] (KUBE_FORBIDDEN) — grant the agent that permission (the chart's rbac values), or remove the object from git`;
    assert.equal(deniedReady?.message, `${line("patch")}; ${line("create")}`);
    assert.doesNotMatch(deniedReady?.message ?? "", /configmaps|half/, "only the missing permission is named");
    assert.equal(denied.status?.conditions?.find((c) => c.type === "Stalled")?.status, "True");
    assert.equal(await admin.get("v1", "ConfigMap", teamA, "half"), undefined, "nothing is half-applied");
    assert.equal(await admin.get("v1", "LimitRange", teamA, "limits"), undefined);
  } finally {
    await agent?.stop();
    await server.destroy();
    await repo.destroy();
    for (const ns of [system, teamA, teamB]) await admin.delete({ group: "", version: "v1", kind: "Namespace", name: ns }).catch(() => undefined);
    admin.close();
  }
});

test("installed in lockdown, the agent reconciles only by impersonation: its own RBAC covers its Lease, Environments and Events, and no workload or Secret write", async () => {
  const admin = new KubeClient(testKubeConfig());
  const suffix = Date.now().toString(36);
  const [system, tenant, release] = [`baton-lock-${suffix}`, `tenant-${suffix}`, `baton-lock-${suffix}`];
  for (const ns of [system, tenant]) await admin.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: ns } });
  const server = await GitServer.create();
  const repo = await ConfigRepo.create(server, "locked", { "environments/t/config.yaml": `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: tenant-config\ndata: {MODE: "locked"}\n` });
  const cacheDir = await fs.mkdtemp(path.join(os.tmpdir(), "baton-chart-lock-"));
  let agent: Awaited<ReturnType<typeof startAgent>> | undefined;
  // The default install (rbac.mode cluster) in lockdown, as README's multi-tenant setup step 1 says.
  const objects = await template(system, { defaultServiceAccount: "deployer", agent: { noCrossNamespaceObjects: true } }, release);
  try {
    for (const obj of objects) await admin.apply(obj, { fieldManager: "helm-test", force: true });
    await admin.discover(true);
    // Step 2 of the setup: the tenant's ServiceAccount and what it may deploy.
    const rbacV1 = "rbac.authorization.k8s.io/v1";
    await admin.create({ apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "deployer", namespace: tenant } });
    await admin.create({ apiVersion: rbacV1, kind: "Role", metadata: { name: "deployer", namespace: tenant }, rules: [{ apiGroups: [""], resources: ["configmaps"], verbs: ["get", "list", "watch", "create", "patch", "update", "delete"] }] });
    await admin.create({ apiVersion: rbacV1, kind: "RoleBinding", metadata: { name: "deployer", namespace: tenant }, roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "deployer" }, subjects: [{ kind: "ServiceAccount", name: "deployer", namespace: tenant }] });
    const sa = objects.find((o) => o.kind === "ServiceAccount")?.metadata.name ?? "";
    const tokenRequest = await admin.request<{ status: { token: string } }>("POST", `/api/v1/namespaces/${system}/serviceaccounts/${sa}/token`, { apiVersion: "authentication.k8s.io/v1", kind: "TokenRequest", spec: { expirationSeconds: 3600 } });
    const kc = tokenKubeConfig(tokenRequest.status.token);

    // No more: the apiserver refuses the agent every write of workloads, Secrets, RBAC and Namespaces,
    // reading Secrets in bulk, and impersonating anything but ServiceAccounts.
    const asAgent = new KubeClient(kc);
    const refused: Array<Parameters<typeof mayI>[1]> = [
      ...["create", "patch", "delete"].flatMap((verb) => [
        { verb, group: "apps", resource: "deployments", namespace: tenant }, { verb, resource: "configmaps", namespace: tenant },
        { verb, resource: "secrets", namespace: tenant }, { verb, resource: "pods", namespace: tenant }, { verb, resource: "services", namespace: tenant },
        { verb, group: "rbac.authorization.k8s.io", resource: "rolebindings", namespace: tenant }, { verb, group: "rbac.authorization.k8s.io", resource: "clusterroles" },
        { verb, resource: "namespaces" },
      ]),
      { verb: "list", resource: "secrets", namespace: tenant }, { verb: "watch", resource: "secrets", namespace: tenant },
      { verb: "impersonate", resource: "users", name: "system:admin" }, { verb: "impersonate", resource: "groups", name: "system:masters" },
      { verb: "create", group: "baton.dev", resource: "environments", namespace: tenant }, { verb: "delete", group: "baton.dev", resource: "environments", namespace: tenant },
      { verb: "create", group: "coordination.k8s.io", resource: "leases", namespace: tenant },
    ];
    const allowedAnyway = [];
    for (const attributes of refused) if (await mayI(asAgent, attributes)) allowedAnyway.push(attributes);
    assert.deepEqual(allowedAnyway, [], "the lockdown agent may do none of these itself");
    await assert.rejects(asAgent.create({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "direct", namespace: tenant }, data: {} }), (e: unknown) => e instanceof KubeApiError && e.status === 403);
    // Enough: what it needs for itself.
    const needed: Array<Parameters<typeof mayI>[1]> = [
      ...["get", "create", "update"].map((verb) => ({ verb, group: "coordination.k8s.io", resource: "leases", namespace: system })),
      ...["get", "list", "watch", "patch"].map((verb) => ({ verb, group: "baton.dev", resource: "environments", namespace: tenant })),
      { verb: "patch", group: "baton.dev", resource: "environments", subresource: "status", namespace: tenant },
      { verb: "create", resource: "events", namespace: tenant },
      { verb: "impersonate", resource: "serviceaccounts", namespace: tenant, name: "deployer" },
      { verb: "get", resource: "secrets", namespace: tenant },
    ];
    const missing = [];
    for (const attributes of needed) if (!(await mayI(asAgent, attributes))) missing.push(attributes);
    assert.deepEqual(missing, [], "the lockdown agent may do all of these");
    asAgent.close();

    // And in practice: with only that RBAC the agent leads (its Lease), applies as the tenant's
    // ServiceAccount, and writes the Environment's status and Events.
    const config = parseAgentConfig({ namespace: tenant, port: 0, bindAddress: "127.0.0.1", cacheDir, leaseNamespace: system, leaseName: release, identity: "lockdown-agent", resyncMs: 300, logLevel: "silent", allowInsecureHttp: true /* test git server: http on loopback */, defaultServiceAccount: "deployer", noCrossNamespaceObjects: true });
    agent = await startAgent(config, createLogger("silent"), kc);
    await admin.create({ apiVersion: ENV_API_VERSION, kind: ENV_KIND, metadata: { name: "t", namespace: tenant }, spec: { url: repo.url, path: "environments/t", targetNamespace: tenant, interval: "1h", timeout: "60s" } });
    await waitFor("Environment Ready under lockdown RBAC", async () => {
      const env = (await admin.get(ENV_API_VERSION, ENV_KIND, tenant, "t")) as EnvironmentObject | undefined;
      return env?.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ? env : undefined;
    }, 60_000);
    assert.deepEqual((await admin.get("v1", "ConfigMap", tenant, "tenant-config"))?.data, { MODE: "locked" });
    // Written off the run's critical path: waited for.
    const applied = await waitFor("the Applied Event", async () => {
      const found = (await admin.list("v1", "Event", tenant)).filter((e) => (e.involvedObject as { name?: string }).name === "t" && e.reason === "Applied");
      return found.length > 0 ? found : undefined;
    }, 30_000);
    assert.equal(applied.length, 1, "the Applied Event was recorded by the agent itself");
    const lease = await admin.get("coordination.k8s.io/v1", "Lease", system, release);
    assert.equal((lease?.spec as { holderIdentity?: string } | undefined)?.holderIdentity, "lockdown-agent");
  } finally {
    await agent?.stop();
    await server.destroy();
    await repo.destroy();
    for (const ns of [system, tenant]) await admin.delete({ group: "", version: "v1", kind: "Namespace", name: ns }).catch(() => undefined);
    for (const o of objects.filter((o) => o.kind === "ClusterRole" || o.kind === "ClusterRoleBinding")) await admin.delete({ group: "rbac.authorization.k8s.io", version: "v1", kind: o.kind, name: o.metadata.name }).catch(() => undefined);
    admin.close();
  }
});
