// Semantic drift: 1,000 objects written with spellings the API server normalises (0.5 vs 500m,
// 1024Mi vs 1Gi, numbers for quantities, empty maps) are applied once; the next reconcile writes nothing
// (counted at a proxy; not even the Environment's status), and `baton diff`, which plans with the agent's planner, reports no change.
// test-lane: shares-cluster
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { agentFixture, isReady } from "../support/agent-fixture.js";
import { ApiProxy } from "../support/api-proxy.js";
import { waitFor } from "../support/processes.js";
import { cliArgs } from "../support/cli.js";

const exec = promisify(execFile);
const P = "environments/bulk";
const repoRoot = path.resolve(import.meta.dirname, "../..");

function limitRange(i: number): string {
  const [cpu, memory, max] = i % 2 === 0 ? ["0.5", "1024Mi", "2048Mi"] : ["500m", "1Gi", "2Gi"];
  return `apiVersion: v1
kind: LimitRange
metadata: {name: limits-${i}}
spec:
  limits:
    - type: Container
      default: {cpu: "${cpu}", memory: ${memory}}
      defaultRequest: {cpu: ${i % 3 === 0 ? 0.25 : '"250m"'}, memory: 0.5Gi}
      max: {memory: ${max}}
`;
}

const configMap = (i: number) => `apiVersion: v1
kind: ConfigMap
metadata: {name: settings-${i}, annotations: {}}
data: {mode: "${i}"}
`;

test("a no-op over 1,000 objects with mixed spellings writes nothing, and baton diff agrees", async () => {
  const files: Record<string, string> = {
    "baton.yaml": `apiVersion: baton.dev/v1alpha1\nkind: Pipeline\nmetadata: {name: bulk}\nenvironments:\n  - name: bulk\n    path: ${P}\n`,
  };
  for (let chunk = 0; chunk < 10; chunk++) {
    const docs: string[] = [];
    for (let i = chunk * 100; i < chunk * 100 + 100; i++) docs.push(i % 5 === 4 ? configMap(i) : limitRange(i));
    files[`${P}/objects-${chunk}.yaml`] = docs.join("---\n");
  }
  const f = await agentFixture("drift", files);
  const proxy = await ApiProxy.start();
  try {
    await f.createEnvironment("bulk", { path: P, timeout: "5m" });
    const agent = await f.startAgent({}, { kubeConfig: proxy.kubeConfig() });
    const first = await f.repo.git("rev-parse", "HEAD");
    const applied = await f.waitForEnvironment("bulk", "1,000 objects applied", (e) => isReady(e, first), 180_000);
    assert.equal(applied.status?.inventory?.entries.length, 1000);
    const live = await f.client.get("v1", "LimitRange", f.namespace, "limits-0");
    assert.deepEqual((live?.spec as { limits: Array<{ default: unknown }> }).limits[0]?.default, { cpu: "500m", memory: "1Gi" }, "the server normalised the spelling");

    const reconciles = async () => (await agent.metrics.reconcileTotal.get()).values.filter((v) => v.labels.environment === `${f.namespace}/bulk`).reduce((sum, v) => sum + v.value, 0);
    const before = await reconciles();
    const mark = performance.now();
    agent.controller.trigger(`${f.namespace}/bulk`, "test");
    await waitFor("reconciled again", async () => ((await reconciles()) > before ? true : undefined), 120_000);
    const writes = proxy.writes(mark).filter((r) => !r.path.includes("/leases/"));
    assert.deepEqual(writes.map((r) => `${r.method} ${r.path}`), [], "an unchanged repo costs zero writes: no object, no dry-run, no status, no Event");
    assert.equal((await f.client.get("baton.dev/v1alpha1", "Environment", f.namespace, "bulk"))?.metadata.resourceVersion, applied.metadata.resourceVersion, "the Environment was not written");

    // `baton diff` plans with the agent's planner: same owner label, targetNamespace and inventory.
    const checkout = await fs.mkdtemp(path.join(os.tmpdir(), "baton-diff-"));
    await exec("git", ["clone", "--quiet", f.repo.url, checkout]);
    const { stdout } = await exec(process.execPath, cliArgs("diff", "bulk", "--repo", checkout, "--kubeconfig", process.env.BATON_TEST_KUBECONFIG ?? "", "-o", "json"), { cwd: repoRoot });
    const diff = JSON.parse(stdout) as { changes: unknown[]; prune: unknown[]; unchanged: number };
    assert.deepEqual({ changes: diff.changes.length, prune: diff.prune.length, unchanged: diff.unchanged }, { changes: 0, prune: 0, unchanged: 1000 });
    await fs.rm(checkout, { recursive: true, force: true });
  } finally {
    await f.cleanup();
    await proxy.stop();
  }
});
