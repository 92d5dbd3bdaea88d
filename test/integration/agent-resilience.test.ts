// With the git server down the agent keeps the last applied state, reports the error, and recovers.
// Two agents with leader election: only the leader applies; when it dies, the other takes over.
import { test } from "node:test";
import { spawn } from "node:child_process";
import { createHmac } from "node:crypto";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parse, stringify } from "yaml";
import assert from "node:assert/strict";
import { agentFixture, isReady, readyCondition } from "../support/agent-fixture.js";
import { digest, underPath, webApp } from "../support/config-repo.js";
import { waitFor } from "../support/processes.js";
import { cliArgs } from "../support/cli.js";

const P = "environments/production";

test("a git outage keeps the last state, is reported, and recovers (with basic auth from a Secret)", async () => {
  const auth = { username: "agent", password: "pa55" };
  const f = await agentFixture("outage", underPath(P, webApp(`ghcr.io/acme/web@${digest("outage")}`)), { auth });
  try {
    await f.client.create({ apiVersion: "v1", kind: "Secret", metadata: { name: "git-auth", namespace: f.namespace }, stringData: auth });
    await f.createEnvironment("production", { path: P, interval: "1s", secretRef: { name: "git-auth" } });
    await f.startAgent();
    const first = await f.repo.git("rev-parse", "HEAD");
    await f.waitForEnvironment("production", "Ready", (e) => isReady(e, first));

    await f.server.stop();
    const down = await f.waitForEnvironment("production", "git failure reported", (e) => readyCondition(e)?.reason === "GitOperationFailed", 30_000);
    assert.match(readyCondition(down)?.message ?? "", /GIT_FAILED/);
    assert.doesNotMatch(JSON.stringify(down.status), /pa55/, "credentials never appear in status");
    assert.equal(down.status?.conditions?.find((c) => c.type === "Stalled")?.status, "False", "an outage is retried, not stalled");
    assert.equal(down.status?.lastAppliedRevision, first);
    assert.ok(await f.client.get("apps/v1", "Deployment", f.namespace, "web"), "the last applied state stays in place");

    await f.server.start();
    const next = `ghcr.io/acme/web@${digest("after-outage")}`;
    const pushed = await f.repo.commit({ [`${P}/deploy.yaml`]: webApp(next)["deploy.yaml"] as string }, "after the outage");
    await f.waitForEnvironment("production", "recovered", (e) => isReady(e, pushed), 30_000);
    assert.equal(await f.deploymentImage("web"), next);
  } finally {
    await f.cleanup();
  }
});

test("with leader election only one agent applies, and the standby takes over when the leader is killed", async () => {
  const f = await agentFixture("leader", underPath(P, webApp(`ghcr.io/acme/web@${digest("leader")}`)));
  // Agent A is a real `baton agent` process, so it can be killed with SIGKILL (no lease release).
  const a = spawn(process.execPath, cliArgs("agent", "--kubeconfig", process.env.BATON_TEST_KUBECONFIG ?? "",
    "--namespace", f.namespace, "--lease-namespace", f.namespace, "--lease-name", "baton-test", "--lease-duration-seconds", "3", "--port", "0",
    "--bind-address", "127.0.0.1", "--log-level", "warn", "--allow-insecure-http"), { env: { ...process.env, POD_NAME: "agent-a" }, stdio: "ignore" });
  const holder = async () => ((await f.client.get("coordination.k8s.io/v1", "Lease", f.namespace, "baton-test"))?.spec as { holderIdentity?: string } | undefined)?.holderIdentity;
  try {
    await f.createEnvironment("production", { path: P, interval: "1s" });
    await waitFor("agent-a leads", async () => ((await holder()) === "agent-a" ? true : undefined), 30_000);
    const b = await f.startAgent({ leaderElect: true, leaseName: "baton-test", leaseDurationSeconds: 3, identity: "agent-b", webhookSecret: "s" });
    await f.waitForEnvironment("production", "Ready (applied by agent-a)", (e) => isReady(e), 30_000);
    await new Promise((r) => setTimeout(r, 2000));
    assert.equal(b.isLeader(), false);
    assert.equal(b.client.stats.writes, 0, "the standby wrote nothing");
    assert.equal(b.controller.environments().length, 0, "the standby runs no reconcile loop");

    // A webhook that reaches the standby is handed to the leader through an annotation, not dropped.
    const body = JSON.stringify({ ref: "refs/heads/main", repository: { clone_url: f.repo.url } });
    const hook = await fetch(`http://127.0.0.1:${b.port}/webhook`, { method: "POST", body, headers: { "X-GitHub-Event": "push", "X-Hub-Signature-256": `sha256=${createHmac("sha256", "s").update(body).digest("hex")}` } });
    assert.deepEqual(await hook.json(), { triggered: [`${f.namespace}/production`] });
    assert.ok((await f.environment("production"))?.metadata.annotations?.["baton.dev/reconcile-requested-at"]);
    assert.equal(b.client.stats.writes, 1, "the standby's only write is that annotation");

    a.kill("SIGKILL");
    await waitFor("agent-b takes over", async () => (b.isLeader() && (await holder()) === "agent-b" ? true : undefined), 30_000);
    const next = `ghcr.io/acme/web@${digest("after-failover")}`;
    const pushed = await f.repo.commit({ [`${P}/deploy.yaml`]: webApp(next)["deploy.yaml"] as string }, "after failover");
    await f.waitForEnvironment("production", "applied by agent-b", (e) => isReady(e, pushed), 30_000);
    assert.equal(await f.deploymentImage("web"), next);
  } finally {
    a.kill("SIGKILL");
    await f.cleanup();
  }
});

/**
 * The test kubeconfig with a second context, made current, whose server refuses connections: an agent
 * only reaches the control plane when `--context test` is honoured.
 */
async function kubeconfigWithOtherCurrentContext(): Promise<string> {
  const config = parse(await fs.readFile(process.env.BATON_TEST_KUBECONFIG ?? "", "utf8")) as { clusters: unknown[]; contexts: unknown[]; "current-context": string };
  config.clusters.push({ name: "elsewhere", cluster: { server: "https://127.0.0.1:1", "insecure-skip-tls-verify": true } });
  config.contexts.push({ name: "elsewhere", context: { cluster: "elsewhere", user: "admin" } });
  config["current-context"] = "elsewhere";
  const file = path.join(await fs.mkdtemp(path.join(os.tmpdir(), "baton-context-")), "kubeconfig");
  await fs.writeFile(file, stringify(config), { mode: 0o600 });
  return file;
}

test("SIGTERM stops the agent cleanly: exit code 0 and the lease released for a standby", async () => {
  const f = await agentFixture("sigterm", underPath(P, webApp(`ghcr.io/acme/web@${digest("sigterm")}`)));
  // --context: the kubeconfig's current context points elsewhere.
  const agent = spawn(process.execPath, cliArgs("agent", "--kubeconfig", await kubeconfigWithOtherCurrentContext(), "--context", "test",
    "--namespace", f.namespace, "--lease-namespace", f.namespace, "--lease-name", "baton-term", "--port", "0", "--bind-address", "127.0.0.1", "--log-level", "warn", "--allow-insecure-http"),
  { env: { ...process.env, POD_NAME: "agent-term" }, stdio: "ignore" });
  const holder = async () => ((await f.client.get("coordination.k8s.io/v1", "Lease", f.namespace, "baton-term"))?.spec as { holderIdentity?: string } | undefined)?.holderIdentity;
  try {
    await f.createEnvironment("production", { path: P, interval: "1s" });
    await waitFor("agent-term leads", async () => ((await holder()) === "agent-term" ? true : undefined), 30_000);
    await f.waitForEnvironment("production", "Ready", (e) => isReady(e), 30_000);
    const exited = new Promise<number | null>((resolve) => agent.once("exit", (code) => resolve(code)));
    agent.kill("SIGTERM");
    assert.equal(await exited, 0);
    assert.equal(await holder(), undefined, "the lease is released so a standby takes over at once");
  } finally {
    agent.kill("SIGKILL");
    await f.cleanup();
  }
});
