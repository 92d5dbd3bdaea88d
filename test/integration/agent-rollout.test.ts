// Pushing a digest change rolls the Deployment out and the Environment reports the new revision Ready;
// `git revert` of that commit brings the old image back (rollback needs no special code path).
import { test } from "node:test";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import assert from "node:assert/strict";
import { agentFixture, isReady } from "../support/agent-fixture.js";
import { digest, underPath, webApp } from "../support/config-repo.js";
import { waitFor } from "../support/processes.js";

const OLD = `ghcr.io/acme/web@${digest("old")}`;
const NEW = `ghcr.io/acme/web@${digest("new")}`;

test("digest change rolls out, status and events report it, git revert rolls back", async () => {
  const f = await agentFixture("rollout", underPath("environments/staging", webApp(OLD)));
  try {
    await f.createEnvironment("staging", { path: "environments/staging", interval: "1s" });
    const agent = await f.startAgent();
    const first = await f.repo.git("rev-parse", "HEAD");
    let env = await f.waitForEnvironment("staging", "first revision Ready", (e) => isReady(e, first));
    assert.equal(await f.deploymentImage("web"), OLD);
    assert.deepEqual(env.status?.pins, { "ghcr.io/acme/web": digest("old") });
    assert.equal(env.status?.inventory?.entries.length, 3);
    assert.equal(env.status?.observedGeneration, 1);

    // Objects carry Baton's ownership labels.
    const svc = await f.client.get("v1", "Service", f.namespace, "web");
    assert.equal(svc?.metadata.labels?.["app.kubernetes.io/managed-by"], "baton");
    assert.equal(svc?.metadata.labels?.["baton.dev/environment"], "staging");

    // An unchanged environment costs zero writes across several reconciles.
    const writesBefore = agent.client.stats.writes;
    const reconcilesBefore = Number(/baton_reconcile_total\{[^}]*result="success"[^}]*\} (\d+)/.exec(await agent.metrics.render())?.[1] ?? 0);
    await waitFor("two more reconciles", async () => {
      const n = Number(/baton_reconcile_total\{[^}]*result="success"[^}]*\} (\d+)/.exec(await agent.metrics.render())?.[1] ?? 0);
      return n >= reconcilesBefore + 2 ? true : undefined;
    }, 15_000);
    // Only status patches (one per reconcile) are written; no object was re-applied.
    const statusPatches = agent.client.stats.writes - writesBefore;
    const reconciles = Number(/baton_reconcile_total\{[^}]*result="success"[^}]*\} (\d+)/.exec(await agent.metrics.render())?.[1] ?? 0) - reconcilesBefore;
    assert.ok(statusPatches <= reconciles + 1, `expected only status writes, got ${statusPatches} writes in ${reconciles} reconciles`);
    assert.match(await agent.metrics.render(), /baton_objects_applied_total\{environment="[^"]+\/staging"\} 3\n/);

    // Promote: a commit that changes the digest.
    const promoted = await f.repo.commit({ "environments/staging/deploy.yaml": webApp(NEW)["deploy.yaml"] as string }, "Promote web to staging");
    env = await f.waitForEnvironment("staging", "promoted revision Ready", (e) => isReady(e, promoted));
    assert.equal(await f.deploymentImage("web"), NEW);
    const deployment = await f.client.get("apps/v1", "Deployment", f.namespace, "web");
    const status = deployment?.status as { availableReplicas?: number; updatedReplicas?: number };
    assert.equal(status.availableReplicas, 2);
    assert.equal(status.updatedReplicas, 2);
    assert.deepEqual(env.status?.history?.map((h) => [h.revision, h.result]), [[first, "Ready"], [promoted, "Ready"]]);

    // Rollback is git revert.
    const reverted = await f.repo.revert(promoted);
    env = await f.waitForEnvironment("staging", "reverted revision Ready", (e) => isReady(e, reverted));
    assert.equal(await f.deploymentImage("web"), OLD);
    assert.equal(env.status?.history?.length, 3);
    assert.deepEqual(env.status?.pins, { "ghcr.io/acme/web": digest("old") });

    // kubectl shows the printer columns from the CRD (PHASE stays empty without a release strategy).
    const { stdout } = await promisify(execFile)("kubectl", ["--kubeconfig", process.env.BATON_TEST_KUBECONFIG ?? "", "get", "environments", "-n", f.namespace]);
    const [header, row] = stdout.trim().split("\n");
    assert.deepEqual(header?.split(/\s{2,}/), ["NAME", "REVISION", "READY", "PHASE", "STATUS", "AGE"]);
    assert.match(row ?? "", new RegExp(`^staging\\s+${reverted}\\s+True\\s+Applied revision`));

    // Events were recorded on the Environment (written off the run's critical path: waited for).
    const reasons = async () => new Set((await f.client.list("v1", "Event", f.namespace)).filter((e) => (e.involvedObject as { kind?: string }).kind === "Environment").map((e) => e.reason as string));
    await waitFor("Applied and HealthChanged Events", async () => {
      const seen = await reasons();
      return seen.has("Applied") && seen.has("HealthChanged") ? true : undefined;
    }, 30_000);
  } finally {
    await f.cleanup();
  }
});
