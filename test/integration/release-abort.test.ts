// Auto-abort on the real control plane: a candidate whose Pods crash-loop (kwok Stage matching one image
// digest) reaches ProgressDeadlineExceeded; the promoter's release pass writes the abort commit
// (Baton-Abort: auto, pushed because autoAbort: push), the digest is rejected, and the agent puts traffic
// and replicas back on the stable slot — git stays the truth at every step.
import { test } from "node:test";
import assert from "node:assert/strict";
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
