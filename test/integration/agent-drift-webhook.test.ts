// Drift: a manual `kubectl set image`-style edit is reverted at the next interval and reported.
// Webhook: a signed GitHub push reconciles at once; a bad signature gets 401 and triggers nothing, and a
// flood of them is logged rate-limited; a replayed delivery is ignored; /metrics is on its own port.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { promises as fs } from "node:fs";
import { artifactPath } from "../support/artifacts.js";
import { agentFixture, isReady } from "../support/agent-fixture.js";
import { digest, underPath, webApp } from "../support/config-repo.js";
import { ApiProxy } from "../support/api-proxy.js";
import { waitFor } from "../support/processes.js";

const IMAGE = `ghcr.io/acme/web@${digest("drift")}`;
const P = "environments/staging";

test("a manual edit of a managed field is reverted and reported as drift", async () => {
  const f = await agentFixture("drift", underPath(P, webApp(IMAGE)));
  try {
    await f.createEnvironment("staging", { path: P, interval: "2s" });
    await f.startAgent();
    await f.waitForEnvironment("staging", "Ready", (e) => isReady(e));
    // What `kubectl set image` does: a strategic-merge patch by another field manager.
    await f.client.request("PATCH", `/apis/apps/v1/namespaces/${f.namespace}/deployments/web?fieldManager=kubectl-set`,
      { spec: { template: { spec: { containers: [{ name: "web", image: "ghcr.io/acme/web:hotfix" }] } } } }, "application/strategic-merge-patch+json");
    assert.equal(await f.deploymentImage("web"), "ghcr.io/acme/web:hotfix");
    const env = await f.waitForEnvironment("staging", "drift reported", (e) => (e.status?.lastDrift?.objects ?? []).some((o) => o.includes("Deployment")), 30_000);
    assert.equal(await f.deploymentImage("web"), IMAGE);
    assert.ok(env.status?.lastDrift?.detectedAt);
    // Events are written off the run's critical path, so the status may show the drift first.
    await waitFor("a DriftCorrected event", async () => ((await f.client.list("v1", "Event", f.namespace)).some((e) => e.reason === "DriftCorrected") ? true : undefined), 30_000);
  } finally {
    await f.cleanup();
  }
});

test("a signed push webhook reconciles immediately, with Events off its critical path; a bad signature is rejected", async () => {
  const f = await agentFixture("webhook", underPath(P, webApp(IMAGE)));
  // Every Event the agent writes is held at its proxy until the end: the runs, their status and the
  // "applied" answer must not wait for one (Events are queued, see src/agent/events.ts).
  const proxy = await ApiProxy.start();
  proxy.hold((method, path) => method === "POST" && /\/namespaces\/[^/]+\/events$/.test(new URL(path, "https://api").pathname));
  try {
    await f.createEnvironment("staging", { path: P, interval: "1h" });
    const agent = await f.startAgent({ webhookSecret: "hook-secret", logLevel: "warn" }, { kubeConfig: proxy.kubeConfig() });
    const first = await f.repo.git("rev-parse", "HEAD");
    await f.waitForEnvironment("staging", "Ready", (e) => isReady(e, first));
    const next = `ghcr.io/acme/web@${digest("webhook-next")}`;
    const pushed = await f.repo.commit({ [`${P}/deploy.yaml`]: webApp(next)["deploy.yaml"] as string }, "promote");
    const body = JSON.stringify({ ref: "refs/heads/main", after: pushed, repository: { clone_url: f.repo.url, full_name: "acme/config" } });
    const post = (signature: string | undefined, delivery = "d-1") => fetch(`http://127.0.0.1:${agent.port}/webhook`, {
      method: "POST", body, headers: { "Content-Type": "application/json", "X-GitHub-Event": "push", "X-GitHub-Delivery": delivery, ...(signature ? { "X-Hub-Signature-256": signature } : {}) },
    });

    const unsigned = await post(undefined);
    assert.equal(unsigned.status, 401);
    const wrong = await post(`sha256=${createHmac("sha256", "not-the-secret").update(body).digest("hex")}`);
    assert.equal(wrong.status, 401);
    const flood = await Promise.all(Array.from({ length: 40 }, (_, i) => post(`sha256=${createHmac("sha256", `wrong-${i}`).update(body).digest("hex")}`, `flood-${i}`).then((r) => r.status)));
    assert.deepEqual([...new Set(flood)], [401]);
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal((await f.environment("staging"))?.status?.lastAttemptedRevision, first, "a rejected webhook triggers nothing");

    const signed = `sha256=${createHmac("sha256", "hook-secret").update(body).digest("hex")}`;
    const ok = await post(signed);
    assert.equal(ok.status, 202);
    assert.deepEqual(await ok.json(), { triggered: [`${f.namespace}/staging`] });
    // A replayed delivery triggers nothing, also under a fresh delivery id (the signature covers only the body).
    for (const delivery of ["d-1", "d-2"]) {
      const replay = await post(signed, delivery);
      assert.equal(replay.status, 200);
      assert.equal(await replay.text(), "duplicate delivery ignored\n");
    }
    await f.waitForEnvironment("staging", "pushed revision Ready", (e) => isReady(e, pushed), 20_000);
    assert.equal(await f.deploymentImage("web"), next);
    // Held until now, the Events are still written: the pushed revision's Applied Event among them.
    const eventsOf = async (reason: string) => (await f.client.list("v1", "Event", f.namespace)).filter((e) => e.reason === reason).map((e) => String(e.message));
    assert.deepEqual(await eventsOf("Applied"), [], "no Event was written while they were held");
    proxy.resume();
    await waitFor("the held Events written", async () => ((await eventsOf("Applied")).some((m) => m.startsWith(`revision ${pushed.slice(0, 12)}`)) ? true : undefined), 30_000);

    const health = await fetch(`http://127.0.0.1:${agent.port}/healthz`);
    assert.equal(health.status, 200);
    assert.equal((await fetch(`http://127.0.0.1:${agent.port}/metrics`)).status, 404, "metrics are not served next to the webhook");
    assert.notEqual(agent.metricsPort, agent.port);
    const metrics = await (await fetch(`http://127.0.0.1:${agent.metricsPort}/metrics`)).text();
    assert.match(metrics, /baton_last_applied_revision_timestamp_seconds\{environment="[^"]+"\} \d+/);

    // 42 bad signatures and 2 replays, all within seconds: a few log lines (one per 10 s window), not 44.
    const logFile = artifactPath(`cluster-logs/agent-${f.namespace}-0.log`);
    const rejected = (await fs.readFile(logFile, "utf8")).split("\n").filter((l) => l.includes("rejected webhook"));
    assert.ok(rejected.length >= 1 && rejected.length <= 4, `rejections logged ${rejected.length} times:\n${rejected.join("\n")}`);
    assert.ok(!rejected.join("\n").includes("hook-secret"));
  } finally {
    await f.cleanup();
    await proxy.stop();
  }
});

test("Environments of one repository share one head check per interval; a commit reaches all of them without a webhook", async (t) => {
  const names = ["a", "b", "c", "d", "e", "f"];
  const configMap = (name: string, value: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ${name}}\ndata: {v: "${value}"}\n`;
  const files = (value: string) => Object.fromEntries(names.map((n) => [`environments/${n}/cm.yaml`, configMap(n, value)]));
  const f = await agentFixture("polling", files("1"));
  const INTERVAL_MS = 1000;
  // ls-remote is GET info/refs + POST ls-refs (protocol v2): the POST counts one head check.
  const headChecks = (from: number, to = Infinity) => f.server.requests.filter((r, i) => r.startsWith("POST") && r.endsWith("git-upload-pack v2") && f.server.requestTimes[i]! >= from && f.server.requestTimes[i]! < to).length;
  const packs = () => f.server.requests.filter((r) => r.startsWith("POST") && r.endsWith("git-upload-pack")).length;
  try {
    for (const n of names) await f.createEnvironment(n, { path: `environments/${n}`, interval: `${INTERVAL_MS}ms` });
    await f.startAgent();
    const first = await f.repo.git("rev-parse", "HEAD");
    for (const n of names) await f.waitForEnvironment(n, "Ready", (e) => isReady(e, first));
    // Idle: six Environments on 1 s intervals, one head check per interval for all of them.
    const windowStart = performance.now();
    await new Promise((r) => setTimeout(r, 6 * INTERVAL_MS));
    const intervals = (performance.now() - windowStart) / INTERVAL_MS;
    const checks = headChecks(windowStart);
    t.diagnostic(`${checks} head checks in ${intervals.toFixed(2)} intervals (${(checks / intervals).toFixed(2)} per interval) for ${names.length} Environments`);
    assert.ok(checks >= 1, "the source was polled while idle");
    assert.ok(checks <= Math.floor(intervals) + 1, `at most one head check per interval (plus one at the window's edge): ${checks} in ${intervals.toFixed(2)} intervals`);
    // A commit without a webhook: the poll sees it and wakes every Environment; one pack download for all.
    const packsBefore = packs();
    const pushed = await f.repo.commit(files("2"), "all environments");
    for (const n of names) await f.waitForEnvironment(n, "applied the commit (polled)", (e) => isReady(e, pushed), 30_000);
    assert.equal(packs() - packsBefore, 1, "one fetch of the new revision for all six Environments");
  } finally {
    await f.cleanup();
  }
});
