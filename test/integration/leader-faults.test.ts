// Leader election under faults, on the real control plane. Each agent talks to the API server through
// its own ApiProxy, which counts every request the agent sends and can cut the agent off.
//  - Clocks 30 s apart: the replica that is not leader writes nothing.
//  - The leader cut off from the API server stops leading before the standby takes over, and nothing
//    it sent during the partition lands afterwards.
//  - Two shards split the Environments: each reconciles (and writes the status of) only its own.
import { test } from "node:test";
import { createHmac } from "node:crypto";
import path from "node:path";
import assert from "node:assert/strict";
import type { Clock } from "../../src/agent/leader.js";
import type { AgentConfig } from "../../src/agent/config.js";
import { shardOf } from "../../src/agent/shard.js";
import { agentFixture, isReady } from "../support/agent-fixture.js";
import { ApiProxy } from "../support/api-proxy.js";
import { GitHubDouble } from "../support/github-double.js";
import { digest, underPath, webApp } from "../support/config-repo.js";
import { waitFor } from "../support/processes.js";

const P = "environments/production";
const skewed = (offsetMs: number): Clock => ({ monotonic: () => performance.now(), wall: () => new Date(Date.now() + offsetMs) });
const election = (identity: string): Partial<AgentConfig> => ({ leaderElect: true, leaseName: "baton-faults", leaseDurationSeconds: 3, renewDeadline: 2000, retryPeriod: 500, identity });
const isLeaseRead = (r: { method: string; path: string }) => r.method === "GET" && r.path.includes("/leases/baton-faults");

test("two replicas whose clocks differ by 60 s: the one that is not leader writes nothing", async () => {
  const f = await agentFixture("skew", underPath(P, webApp(`ghcr.io/acme/web@${digest("skew")}`)));
  const [pa, pb] = [await ApiProxy.start(), await ApiProxy.start()];
  try {
    await f.createEnvironment("production", { path: P, interval: "1s" });
    const a = await f.startAgent(election("agent-slow"), { kubeConfig: pa.kubeConfig(), hooks: { clock: skewed(-30_000) } });
    await waitFor("agent-slow leads", async () => (a.isLeader() ? true : undefined), 30_000);
    await f.waitForEnvironment("production", "Ready", (e) => isReady(e), 60_000);
    // By agent-fast's clock, every renewTime agent-slow writes is 60 s old: judged by timestamps, it would take over at once.
    const b = await f.startAgent(election("agent-fast"), { kubeConfig: pb.kubeConfig(), hooks: { clock: skewed(+30_000) } });
    // Let agent-fast look at the lease over more than two lease durations (3 s each, every ~0.5 s).
    await waitFor("agent-fast read the lease 14 times", async () => (pb.forwarded.filter(isLeaseRead).length >= 14 ? true : undefined), 60_000);
    assert.equal(b.isLeader(), false);
    assert.equal(a.isLeader(), true);
    assert.deepEqual(pb.writes().map((r) => `${r.method} ${r.path}`), [], "the replica that is not leader wrote nothing");
    assert.ok(pa.writes().some((r) => r.userAgent === "baton-agent/agent-slow" && r.path.includes("/environments/production/status")), "the leader writes, under its own user agent");
    assert.ok(pb.forwarded.every((r) => r.userAgent === "baton-agent/agent-fast"));
  } finally {
    await f.cleanup();
    await pa.stop();
    await pb.stop();
  }
});

test("a leader cut off from the API server stops before the standby takes over; nothing it sent lands later", async () => {
  const f = await agentFixture("partition", underPath(P, webApp(`ghcr.io/acme/web@${digest("partition")}`)));
  const [pa, pb] = [await ApiProxy.start(), await ApiProxy.start()];
  const order: string[] = [];
  try {
    await f.createEnvironment("production", { path: P, interval: "1s" });
    const a = await f.startAgent(election("agent-a"), { kubeConfig: pa.kubeConfig(), hooks: { onLeadership: (l) => order.push(`agent-a ${l ? "leads" : "stopped"}`) } });
    await waitFor("agent-a leads", async () => (a.isLeader() ? true : undefined), 30_000);
    const first = await f.repo.git("rev-parse", "HEAD");
    await f.waitForEnvironment("production", "Ready", (e) => isReady(e, first), 60_000);
    const b = await f.startAgent(election("agent-b"), { kubeConfig: pb.kubeConfig(), hooks: { onLeadership: (l) => order.push(`agent-b ${l ? "leads" : "stopped"}`) } });
    await waitFor("agent-b campaigns", async () => (pb.forwarded.some(isLeaseRead) ? true : undefined), 30_000);

    pa.pause();
    const cutOff = performance.now();
    await waitFor("agent-b takes over", async () => (b.isLeader() ? true : undefined), 30_000);
    assert.deepEqual(order, ["agent-a leads", "agent-a stopped", "agent-b leads"], "agent-a stopped leading before agent-b began");
    assert.equal(a.isLeader(), false);

    // Heal the partition: agent-a cancelled what it had sent (at least its lease renewals), so none of it is forwarded.
    pa.resume();
    assert.ok(pa.dropped >= 1, "agent-a's requests from the partition were cancelled by agent-a");
    assert.deepEqual(pa.writes(cutOff).map((r) => `${r.method} ${r.path}`), [], "nothing agent-a sent during the partition landed");
    const healed = performance.now();
    await waitFor("agent-a campaigns again", async () => (pa.forwarded.some((r) => r.at > healed && isLeaseRead(r)) ? true : undefined), 30_000);

    const next = `ghcr.io/acme/web@${digest("after-partition")}`;
    const pushed = await f.repo.commit({ [`${P}/deploy.yaml`]: webApp(next)["deploy.yaml"] as string }, "after the partition");
    await f.waitForEnvironment("production", "applied by agent-b", (e) => isReady(e, pushed), 60_000);
    assert.equal(await f.deploymentImage("web"), next);
    assert.deepEqual(pa.writes(cutOff).map((r) => `${r.method} ${r.path}`), [], "agent-a, now a standby, still writes nothing");
    assert.equal(a.isLeader(), false);
  } finally {
    await f.cleanup();
    await pa.stop();
    await pb.stop();
  }
});

test("a health wait cut short by shutdown is not a failure: the deployment stays in_progress and the next agent concludes it", async () => {
  const github = await GitHubDouble.start();
  const label = `baton-test-${Date.now().toString(36)}`;
  // Pods of this Deployment schedule only once the test labels the node: until then the rollout waits.
  const manifest = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      nodeSelector: {${label}: "yes"}
      containers: [{name: web, image: "ghcr.io/acme/web@${digest("interrupted")}"}]
`;
  const f = await agentFixture("interrupt", { [`${P}/deploy.yaml`]: manifest });
  // The stand-in serves only repositories it knows, as GitHub does: this one is the fixture's config repo.
  github.addRepo("acme/config", path.join(f.server.root, "config.git"));
  const node = (value: string | null) => f.client.mergePatch("v1", "Node", undefined, "kwok-node-0", { metadata: { labels: { [label]: value } } });
  try {
    await f.client.create({ apiVersion: "v1", kind: "Secret", metadata: { name: "creds", namespace: f.namespace }, stringData: { githubToken: github.token } });
    await f.createEnvironment("production", { path: P, timeout: "5m", secretRef: { name: "creds" }, github: { repository: "acme/config", apiUrl: github.baseUrl } });
    const first = await f.repo.git("rev-parse", "HEAD");
    const a = await f.startAgent();
    await waitFor("a deployment in progress", async () => (github.deployments.some((d) => d.sha === first && d.statuses.length > 0) ? true : undefined), 60_000);
    await waitFor("applied, waiting for health", async () => (await f.client.get("apps/v1", "Deployment", f.namespace, "web")) ? true : undefined, 30_000);
    await a.stop();

    const afterStop = await f.environment("production");
    assert.deepEqual(github.deployments.map((d) => d.statuses.map((s) => s.state)), [["in_progress"]], "no failure reported for an interrupted wait");
    assert.notEqual(afterStop?.status?.lastAppliedRevision, first);
    assert.ok(!(afterStop?.status?.conditions ?? []).some((c) => /HealthCheck/.test(c.reason)), "no HealthCheckTimeout written");

    await node("yes");
    await f.startAgent();
    await f.waitForEnvironment("production", "Ready after the resume", (e) => isReady(e, first), 60_000);
    const concluded = await waitFor("the deployment concluded", async () => (github.deployments[0]?.statuses.some((s) => s.state === "success") ? github.deployments : undefined), 10_000);
    assert.deepEqual(concluded.map((d) => [d.sha, d.statuses.map((s) => s.state)]), [[first, ["in_progress", "success"]]], "the same deployment was resumed and concluded");
    assert.deepEqual(github.violations, []);
  } finally {
    await node(null).catch(() => undefined);
    await f.cleanup();
    await github.stop();
  }
});

test("two shards split the Environments without overlap, each under its own Lease; a push to either reaches all", async () => {
  const names = ["e0", "e1", "e2", "e3", "e4", "e5"];
  const configMap = (name: string, value: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ${name}}\ndata: {v: "${value}"}\n`;
  const files = (value: string) => Object.fromEntries(names.map((n) => [`environments/${n}/cm.yaml`, configMap(n, value)]));
  const f = await agentFixture("shards", files("1"));
  const [p0, p1] = [await ApiProxy.start(), await ApiProxy.start()];
  // The default lease timings: this test is about the split, not about failover under a loaded machine.
  const sharding = (shard: number): Partial<AgentConfig> => ({ leaderElect: true, identity: `shard-${shard}`, leaseName: "baton-shards", shard, shards: 2, webhookSecret: "hook-secret" });
  const terms = [0, 0];
  const counting = (shard: number) => ({ onLeadership: (leading: boolean) => void (leading && terms[shard]!++) });
  try {
    for (const n of names) await f.createEnvironment(n, { path: `environments/${n}` });
    const owners = new Map(names.map((n) => [n, shardOf(`${f.namespace}/${n}`, 2)]));
    const [a, b] = [await f.startAgent(sharding(0), { kubeConfig: p0.kubeConfig(), hooks: counting(0) }), await f.startAgent(sharding(1), { kubeConfig: p1.kubeConfig(), hooks: counting(1) })];
    const first = await f.repo.git("rev-parse", "HEAD");
    for (const n of names) await f.waitForEnvironment(n, "Ready", (e) => isReady(e, first));
    // Shared fetches: six Environments of one repository cost each agent one pack download per revision.
    const packs = () => f.server.requests.filter((r) => r.startsWith("POST") && r.endsWith("git-upload-pack")).length;
    assert.equal(packs(), 2, "one fetch per agent for the first revision, not one per Environment");
    // Each Environment was reconciled, and its status written, by its own shard's agent alone.
    const keys = (agent: typeof a) => agent.controller.environments().map((e) => e.key.split("/")[1]).sort();
    assert.deepEqual(keys(a), names.filter((n) => owners.get(n) === 0));
    assert.deepEqual(keys(b), names.filter((n) => owners.get(n) === 1));
    assert.ok(keys(a).length > 0 && keys(b).length > 0, "both shards own some Environments");
    const statusWrites = (proxy: ApiProxy) => [...new Set(proxy.writes().map((r) => /\/environments\/(e\d)\/status/.exec(r.path)?.[1]).filter((n): n is string => !!n))].sort();
    assert.deepEqual(statusWrites(p0), keys(a));
    assert.deepEqual(statusWrites(p1), keys(b));
    const holder = async (lease: string) => ((await f.client.get("coordination.k8s.io/v1", "Lease", f.namespace, lease))?.spec as { holderIdentity?: string } | undefined)?.holderIdentity;
    assert.deepEqual([await holder("baton-shards-shard-0"), await holder("baton-shards-shard-1")], ["shard-0", "shard-1"]);

    // GitHub sends a push to one pod behind the Service: shard 0 reconciles its own and asks shard 1 for the others.
    const pushed = await f.repo.commit(files("2"), "all environments");
    const body = JSON.stringify({ ref: "refs/heads/main", after: pushed, repository: { clone_url: f.repo.url } });
    const signature = `sha256=${createHmac("sha256", "hook-secret").update(body).digest("hex")}`;
    const answer = await fetch(`http://127.0.0.1:${a.port}/webhook`, { method: "POST", body, headers: { "Content-Type": "application/json", "X-GitHub-Event": "push", "X-GitHub-Delivery": "shards-1", "X-Hub-Signature-256": signature } });
    assert.equal(answer.status, 202);
    for (const n of names) await f.waitForEnvironment(n, "applied the push (interval 1h: only the webhook moves it)", (e) => isReady(e, pushed), 30_000);
    assert.deepEqual(statusWrites(p0), keys(a), "still no status write across shards");
    assert.equal(packs(), 4, "and one fetch per agent for the pushed revision");
    // Environments are watched: each agent listed them once per leadership term, then followed the watch
    // (no list on a timer); shard 0 listed once more to find shard 1's Environments for the push.
    const lists = (proxy: ApiProxy) => proxy.forwarded.filter((r) => r.method === "GET" && /\/environments(\?|$)/.test(r.path) && !r.path.includes("watch=")).length;
    assert.deepEqual([lists(p0), lists(p1)], [terms[0]! + 1, terms[1]!]);
  } finally {
    await f.cleanup();
    await p0.stop();
    await p1.stop();
  }
});
