// Teardown leaves nothing behind: a second control plane is started and stopped, and every one of its
// processes is gone and its temp dir removed.
// test-lane: shares-cluster
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { startCluster } from "../support/cluster.js";
import { isAlive } from "../support/processes.js";

test("stopping a control plane leaves no process and no temp dir behind", async () => {
  const bin = process.env.BATON_TEST_BIN;
  assert.ok(bin, "BATON_TEST_BIN is set by test/run.ts");
  const cluster = await startCluster(bin);
  const pids = cluster.processes.map((p) => p.pid);
  assert.deepEqual(cluster.processes.map((p) => p.name), ["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok"]);
  assert.ok(pids.every(isAlive));
  await cluster.stop();
  assert.deepEqual(pids.filter(isAlive), []);
  assert.equal(existsSync(cluster.dir), false);
});
