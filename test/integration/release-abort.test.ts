// Releases moved by the promoter on the real control plane. Auto-abort: a candidate whose Pods crash-loop
// (kwok Stage matching one image digest) reaches ProgressDeadlineExceeded; the promoter's release pass writes the abort commit
// (Baton-Abort: auto, pushed because autoAbort: push), the digest is rejected, and the agent puts traffic
// and replicas back on the stable slot — git stays the truth at every step. Timed pause and retireAfter:
// the agent's own scheduled promoter (`--promoter-repo`) commits each move, and the agent applies it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { parse } from "yaml";
import { agentFixture, isReady } from "../support/agent-fixture.js";
import { digest } from "../support/config-repo.js";
import { CRASH_LOOP_IMAGE } from "../support/crash-loop.js";
import { waitFor } from "../support/processes.js";
import { findEnvironment, loadPipeline } from "../../src/config/pipeline.js";
import { diffEnvironment } from "../../src/cli/diff.js";
import { liveEnvironments } from "../../src/agent/promoter.js";
import { pin } from "../../src/promote/pin.js";
import { runReleases } from "../../src/promote/release-run.js";
import { parseBatonCommit } from "../../src/promote/trailers.js";

const run = promisify(execFile);

const STABLE = `ghcr.io/acme/web@${digest("abort-stable")}`;
const CRASH_DIGEST = CRASH_LOOP_IMAGE.slice(CRASH_LOOP_IMAGE.indexOf("@") + 1);

const app = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  progressDeadlineSeconds: 4
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - name: web
          image: ${STABLE}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
`;

test("a crash-looping candidate is aborted by a commit: digest rejected, traffic and replicas back on stable", async () => {
  const f = await agentFixture("release-abort", { "README.md": "config\n" });
  try {
    await f.repo.commit({
      "baton.yaml": `apiVersion: baton.dev/v1alpha1\nkind: Pipeline\nenvironments:\n  - name: production\n    path: environments/production\n    namespace: ${f.namespace}\n    allowDirectPush: true\n    strategy: {type: blueGreen, router: service, route: web, autoAbort: push}\n`,
      "environments/production/app.yaml": app,
    }, "production with blue-green");
    await f.createEnvironment("production", { path: "environments/production", interval: "1s", timeout: "30s" });
    await f.startAgent();
    await f.waitForEnvironment("production", "steady Ready", (e) => isReady(e), 90_000);

    await pin({ repo: f.repo.dir, env: "production", images: [`web=${CRASH_LOOP_IMAGE}`], mode: "commit" });
    const released = await f.repo.git("rev-parse", "HEAD");
    const failed = await f.waitForEnvironment("production", "candidate health failed", (e) => e.status?.lastAppliedRevision === released
      && e.status.conditions?.some((c) => c.type === "Ready" && c.status === "False" && c.reason === "HealthCheckFailed") === true, 90_000);
    assert.match(failed.status?.conditions?.find((c) => c.type === "Ready")?.message ?? "", /Deployment [\w-]+\/web-green: rollout stalled/);
    const progressing = ((await f.client.get("apps/v1", "Deployment", f.namespace, "web-green"))?.status as { conditions: Array<{ type: string; reason: string }> }).conditions.find((c) => c.type === "Progressing");
    assert.equal(progressing?.reason, "ProgressDeadlineExceeded");
    assert.equal(failed.status?.release?.phase, "PendingConfirmation");

    // The promoter's release pass (what `baton agent --promoter-repo` runs on its schedule).
    const [entry] = await runReleases({ repo: f.repo.dir, live: await liveEnvironments(f.client, f.namespace) });
    assert.equal(entry?.decision.action, "abort", JSON.stringify(entry));
    assert.equal(entry?.result?.action, "pushed");
    await f.repo.git("pull", "--quiet", "--ff-only", "origin", "main");
    const message = await f.repo.git("log", "-1", "--format=%B");
    assert.match(message, /^Baton-Abort: auto$/m);
    assert.match(message, /^Baton-Release: production$/m);
    const rejected = parse(await f.repo.git("show", "HEAD:.baton/rejected.yaml")) as Record<string, Array<{ repository: string; digest: string }>>;
    assert.deepEqual(rejected.production?.map((r) => `${r.repository}@${r.digest}`), [`ghcr.io/acme/web@${CRASH_DIGEST}`]);
    const release = parse(await f.repo.git("show", "HEAD:environments/production/release.yaml")) as { outcome?: string; step?: number };
    assert.deepEqual([release.outcome, release.step], ["Aborted", undefined]);

    // The agent applies the abort commit: the stable slot carries everything again, the candidate is gone.
    const aborted = await f.repo.git("rev-parse", "HEAD");
    const env = await f.waitForEnvironment("production", "abort commit Ready", (e) => isReady(e, aborted), 90_000);
    assert.equal(env.status?.release?.phase, "Aborted");
    const green = await f.client.get("apps/v1", "Deployment", f.namespace, "web-green");
    assert.equal((green?.spec as { replicas: number }).replicas, 0);
    assert.equal(await f.deploymentImage("web-blue"), STABLE);
    assert.deepEqual((((await f.client.get("v1", "Service", f.namespace, "web"))?.spec) as { selector: Record<string, string> }).selector, { app: "web", "baton.dev/slot": "blue" });
    await waitFor("only stable pods behind web", async () => {
      const pods = (await f.client.list("discovery.k8s.io/v1", "EndpointSlice", f.namespace, "kubernetes.io/service-name=web"))
        .flatMap((s) => ((s.endpoints ?? []) as Array<{ targetRef?: { name: string }; conditions?: { ready?: boolean } }>).filter((e) => e.conditions?.ready).map((e) => e.targetRef?.name ?? ""));
      return pods.length === 2 && pods.every((p) => p.startsWith("web-blue-")) ? true : undefined;
    }, 30_000);
    const pipeline = await loadPipeline(f.repo.dir);
    const diff = (await diffEnvironment(f.repo.dir, pipeline, findEnvironment(pipeline, "production"), f.client)).filter((d) => d.action !== "unchanged");
    assert.deepEqual(diff.map((d) => d.object), []);
    const folderLog = new Set((await f.repo.git("log", "--format=%H", "--", "environments/production")).split("\n"));
    for (const h of env.status?.history ?? []) assert.ok(folderLog.has(h.revision), `history revision ${h.revision} is a commit of the folder`);
    // A second pass finds nothing to do: the release is over.
    const again = await runReleases({ repo: f.repo.dir, live: await liveEnvironments(f.client, f.namespace) });
    assert.equal(again[0]?.decision.action, "wait");
  } finally {
    await f.cleanup();
  }
});

test("the agent's promoter ends a timed pause and retires the old slot after retireAfter, each a commit", async () => {
  const f = await agentFixture("release-promoter", { "README.md": "config\n" });
  const promoterClone = await fs.mkdtemp(path.join(os.tmpdir(), "baton-promoter-"));
  try {
    const next = `ghcr.io/acme/web@${digest("promoter-candidate")}`;
    await f.repo.commit({
      "baton.yaml": `apiVersion: baton.dev/v1alpha1\nkind: Pipeline\nenvironments:\n  - name: production\n    path: environments/production\n    namespace: ${f.namespace}\n    allowDirectPush: true\n    strategy: {type: canary, router: service, route: web, steps: [{setWeight: 50}, {pause: 2s}], retireAfter: 2s}\n`,
      "environments/production/app.yaml": app,
    }, "production with a canary: a timed pause, then retireAfter");
    // The promoter works in its own clone (what `baton agent --promoter-repo DIR` is given), every second.
    // No GitHub credentials: every move is a direct push (allowDirectPush).
    await run("git", ["clone", "--quiet", f.server.authUrl("config"), promoterClone]);
    await run("git", ["-C", promoterClone, "config", "user.email", "promoter@example.com"]);
    await run("git", ["-C", promoterClone, "config", "user.name", "Promoter"]);
    await f.createEnvironment("production", { path: "environments/production", interval: "1s" });
    await f.startAgent({ promoterRepo: promoterClone, promoterSchedule: "* * * * * *" });
    await f.waitForEnvironment("production", "steady Ready", (e) => isReady(e), 90_000);

    await pin({ repo: f.repo.dir, env: "production", images: [`web=${next}`], mode: "commit" });
    const released = await f.repo.git("rev-parse", "HEAD");
    // Wait for the outcome, not for a time: the retire commit on the server's main.
    const moves = await waitFor("the promoter's retire commit", async () => {
      await f.repo.git("pull", "--quiet", "--ff-only", "origin", "main");
      const log = (await f.repo.git("log", "--reverse", "--format=%H%x00%B%x01", `${released}..HEAD`)).split("\x01").map((s) => s.trim()).filter(Boolean);
      const parsed = log.map((entry) => { const [sha = "", message = ""] = entry.split("\0"); return { sha, ...parseBatonCommit(message) }; });
      return parsed.some((p) => p.kind === "retire") ? parsed : undefined;
    }, 150_000, 500);
    // step 1 (setWeight 50) healthy → step 2 (the timed pause) → complete once the pause has passed → retire.
    assert.deepEqual(moves.map((m) => [m.kind, m.release, m.env]), [["confirm", "step 2", "production"], ["confirm", "complete", "production"], ["retire", "blue", "production"]]);
    // The promoter acts only on the agent's report of exactly the current step (decide.ts), so the complete
    // commit follows a healthy report of the pause step; the two moves that change objects are in the history.
    const [, complete, retired] = moves.map((m) => m.sha);
    const env = await f.waitForEnvironment("production", "retire commit Ready", (e) => isReady(e, retired), 90_000);
    const applied = new Map((env.status?.history ?? []).map((h) => [h.revision, h.result]));
    assert.deepEqual([applied.get(complete ?? ""), applied.get(retired ?? "")], ["Ready", "Ready"]);
    const release = parse(await f.repo.git("show", `${complete}:environments/production/release.yaml`)) as { stable: { slot: string }; previous?: { images: Record<string, string> } };
    assert.deepEqual([release.stable.slot, release.previous?.images], ["green", { "ghcr.io/acme/web": STABLE.slice(STABLE.indexOf("@") + 1) }]);

    // After the retire commit: the new version on green takes all traffic, blue is at zero, the status says so.
    assert.deepEqual([env.status?.release?.phase, env.status?.release?.step, env.status?.release?.stableSlot], ["Confirmed", undefined, "green"]);
    assert.equal(((await f.client.get("apps/v1", "Deployment", f.namespace, "web-blue"))?.spec as { replicas?: number } | undefined)?.replicas, 0);
    assert.equal(await f.deploymentImage("web-green"), next);
    assert.deepEqual((((await f.client.get("v1", "Service", f.namespace, "web"))?.spec) as { selector: Record<string, string> }).selector, { app: "web", "baton.dev/slot": "green" });
    const pipeline = await loadPipeline(f.repo.dir);
    const diff = (await diffEnvironment(f.repo.dir, pipeline, findEnvironment(pipeline, "production"), f.client)).filter((d) => d.action !== "unchanged");
    assert.deepEqual(diff.map((d) => d.object), []);
  } finally {
    await f.cleanup();
    await fs.rm(promoterClone, { recursive: true, force: true });
  }
});
