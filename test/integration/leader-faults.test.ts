// Leader election under faults, on the real control plane. Each agent talks to the API server through
// its own ApiProxy, which counts every request the agent sends and can cut the agent off.
//  - Clocks 30 s apart: the replica that is not leader writes nothing.
//  - The leader cut off from the API server stops leading before the standby takes over, and nothing
//    it sent during the partition lands afterwards.
import { test } from "node:test";
import path from "node:path";
import assert from "node:assert/strict";
import type { Clock } from "../../src/agent/leader.js";
import type { AgentConfig } from "../../src/agent/config.js";
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
