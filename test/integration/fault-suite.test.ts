// The slow faults, on a private control plane (etcd + kube-apiserver) that this file starts and breaks,
// so the shared one stays healthy for the other tests. Each case hits a reconcile mid-apply and asserts
// that the cluster converges to git with nothing lost: live objects = rendered objects, inventory = the
// same set, history records the revision as Ready.
//  1. kube-apiserver killed (SIGKILL) and restarted during a 1,000-object apply;
//  2. etcd SIGKILLed (it fsyncs, as in production) during a reconcile (300 objects);
//  3. the leader SIGKILLed mid-apply (300 objects), the standby finishes;
//  4. a flood of 300 webhooks with bad signatures during a reconcile.
// Agents apply with low concurrency here so that "mid-apply" lasts long enough to hit.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHmac } from "node:crypto";
import type { ClusterCredentials } from "../../src/kube/credentials.js";
import { loadKubeConfig } from "../../src/kube/kubeconfig.js";
import { inventoryKey } from "../../src/kube/inventory.js";
import { ENVIRONMENT_LABEL } from "../../src/kube/desired.js";
import { mapLimit } from "../../src/util/pool.js";
import { agentFixture, isReady, type AgentFixture } from "../support/agent-fixture.js";
import { startCluster, type Cluster } from "../support/cluster.js";
import { waitFor } from "../support/processes.js";
import { cliArgs } from "../support/cli.js";

const P = "environments/bulk";
let cluster: Cluster;
let kubeConfig: ClusterCredentials;

before(async () => {
  cluster = await startCluster(process.env.BATON_TEST_BIN ?? "", { controlPlaneOnly: true, durableEtcd: true });
  kubeConfig = loadKubeConfig(cluster.kubeconfig);
});
after(async () => {
  await cluster.stop();
});

/** `n` ConfigMaps in files of 100, all carrying `version`. */
function bulk(n: number, version: string): Record<string, string> {
  const files: Record<string, string> = {};
  for (let chunk = 0; chunk * 100 < n; chunk++) {
    const docs: string[] = [];
    for (let i = chunk * 100; i < Math.min(n, chunk * 100 + 100); i++) docs.push(`apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm-${i}}\ndata: {version: "${version}"}\n`);
    files[`${P}/objects-${chunk}.yaml`] = docs.join("---\n");
  }
  return files;
}

const liveCount = async (f: AgentFixture): Promise<number> => (await f.client.list("v1", "ConfigMap", f.namespace, `${ENVIRONMENT_LABEL}=bulk`)).length;

/** Polls until the apply is under way (at least `atLeast` objects exist), then returns how many exist. */
async function midApply(f: AgentFixture, atLeast: number): Promise<number> {
  return waitFor(`at least ${atLeast} objects applied`, async () => {
    const n = await liveCount(f);
    return n >= atLeast ? n : undefined;
  }, 120_000, 100);
}

async function assertConverged(f: AgentFixture, revision: string, n: number, version: string): Promise<void> {
  const env = await f.waitForEnvironment("bulk", `Ready at ${revision.slice(0, 12)}`, (e) => isReady(e, revision), 180_000);
  const live = await f.client.list("v1", "ConfigMap", f.namespace, `${ENVIRONMENT_LABEL}=bulk`);
  const expected = Array.from({ length: n }, (_, i) => `cm-${i}`).sort();
  assert.deepEqual(live.map((o) => o.metadata.name).sort(), expected, "live objects = rendered objects (nothing missing, no orphans)");
  assert.ok(live.every((o) => (o.data as { version?: string }).version === version), "every object has git's content");
  const ids = expected.map((name) => inventoryKey({ group: "", version: "v1", kind: "ConfigMap", name, namespace: f.namespace })).sort();
  assert.deepEqual((env.status?.inventory?.entries ?? []).map((e) => e.id).sort(), ids, "the inventory is exactly what is live");
  assert.deepEqual({ revision: env.status?.history?.at(-1)?.revision, result: env.status?.history?.at(-1)?.result }, { revision, result: "Ready" });
}

test("kube-apiserver killed and restarted during a 1,000-object apply: converges, nothing lost", async () => {
  const f = await agentFixture("apiserver", bulk(1000, "1"), { kubeConfig });
  try {
    await f.createEnvironment("bulk", { path: P, interval: "10s", timeout: "5m" });
    const agent = await f.startAgent({ concurrency: 4 });
    const revision = await f.repo.git("rev-parse", "HEAD");
    const hit = await midApply(f, 100);
    await cluster.restart("kube-apiserver");
    assert.ok(hit < 1000, `the fault hit mid-apply (${hit} of 1000 applied)`);
    await assertConverged(f, revision, 1000, "1");
    assert.match(await agent.metrics.render(), /^baton_reconcile_errors_total\{[^}]*\} [1-9]/m, "the restart failed a reconcile, which was retried");
  } finally {
    await f.cleanup();
  }
});

test("etcd SIGKILLed during a reconcile: converges, nothing lost", async () => {
  const f = await agentFixture("etcd", bulk(300, "1"), { kubeConfig });
  try {
    await f.createEnvironment("bulk", { path: P, interval: "10s", timeout: "5m" });
    await f.startAgent({ concurrency: 1 });
    const revision = await f.repo.git("rev-parse", "HEAD");
    const hit = await midApply(f, 30);
    await cluster.restart("etcd");
    assert.ok(hit < 300, `the fault hit mid-apply (${hit} of 300 applied)`);
    // The API server may ride out a short etcd restart by retrying (no request fails) or answer errors
    // (the reconcile fails and is retried): either way the result must be git's.
    await assertConverged(f, revision, 300, "1");
  } finally {
    await f.cleanup();
  }
});

test("the leader SIGKILLed mid-apply: the standby finishes it", async () => {
  const f = await agentFixture("killed", bulk(300, "1"), { kubeConfig });
  const leader = spawn(process.execPath, cliArgs("agent", "--kubeconfig", cluster.kubeconfig,
    "--namespace", f.namespace, "--lease-namespace", f.namespace, "--lease-name", "bulk", "--lease-duration-seconds", "3", "--port", "0",
    "--bind-address", "127.0.0.1", "--log-level", "warn", "--concurrency", "1", "--allow-insecure-http"), { env: { ...process.env, POD_NAME: "agent-a" }, stdio: "ignore" });
  const holder = async () => ((await f.client.get("coordination.k8s.io/v1", "Lease", f.namespace, "bulk"))?.spec as { holderIdentity?: string } | undefined)?.holderIdentity;
  try {
    await waitFor("agent-a leads", async () => ((await holder()) === "agent-a" ? true : undefined), 60_000);
    const standby = await f.startAgent({ leaderElect: true, leaseName: "bulk", leaseDurationSeconds: 3, identity: "agent-b" });
    await f.createEnvironment("bulk", { path: P, interval: "10s", timeout: "5m" });
    const revision = await f.repo.git("rev-parse", "HEAD");
    const hit = await midApply(f, 30);
    leader.kill("SIGKILL");
    assert.ok(hit < 300, `the leader died mid-apply (${hit} of 300 applied)`);
    assert.equal(standby.isLeader(), false);
    await assertConverged(f, revision, 300, "1");
    assert.equal(await holder(), "agent-b");
    assert.ok(standby.client.stats.writes > 1, "the standby applied the rest");
  } finally {
    leader.kill("SIGKILL");
    await f.cleanup();
  }
});

test("a flood of webhooks with bad signatures during a reconcile: all refused, the reconcile converges, a good one still works", async () => {
  const f = await agentFixture("flood", bulk(300, "1"), { kubeConfig });
  try {
    await f.createEnvironment("bulk", { path: P, interval: "1h", timeout: "5m" });
    const agent = await f.startAgent({ webhookSecret: "s3cret", concurrency: 1 });
    const revision = await f.repo.git("rev-parse", "HEAD");
    await midApply(f, 30);
    const body = JSON.stringify({ ref: "refs/heads/main", repository: { clone_url: f.repo.url } });
    const post = (signature: string) => fetch(`http://127.0.0.1:${agent.port}/webhook`, { method: "POST", body, headers: { "X-GitHub-Event": "push", "X-Hub-Signature-256": signature } }).then((r) => r.status);
    const statuses = await mapLimit(Array.from({ length: 300 }, (_, i) => `sha256=${createHmac("sha256", `wrong-${i}`).update(body).digest("hex")}`), 30, post);
    assert.deepEqual([...new Set(statuses)], [401]);
    await assertConverged(f, revision, 300, "1");

    const next = await f.repo.commit(bulk(300, "2"), "version 2");
    const good = await fetch(`http://127.0.0.1:${agent.port}/webhook`, { method: "POST", body, headers: { "X-GitHub-Event": "push", "X-Hub-Signature-256": `sha256=${createHmac("sha256", "s3cret").update(body).digest("hex")}` } });
    assert.deepEqual(await good.json(), { triggered: [`${f.namespace}/bulk`] });
    await assertConverged(f, next, 300, "2");
  } finally {
    await f.cleanup();
  }
});
