/**
 * Apply benchmark against the real test control plane: a first apply of 1,000 objects and a no-op
 * reconcile of the same 1,000, for Baton (plan + server-side apply, bounded concurrency) and for
 * `kubectl apply --server-side` on an identical folder. Prints both times, the ratios, Baton's API
 * request counts and peak RSS.
 */
import { execFile } from "node:child_process";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { KubeConfig } from "@kubernetes/client-node";
import { renderEnvironment } from "../src/config/render.js";
import { KubeClient } from "../src/kube/client.js";
import { BatonErrors } from "../src/errors.js";
import { inventoryKey, type InventoryEntry } from "../src/kube/inventory.js";
import { ResourceManager } from "../src/kube/manager.js";
import { planAgainstCluster } from "../src/kube/planner.js";
import { startTestEnvironment } from "../test/support/testenv.js";
import { writeApps } from "./fixtures.js";

const exec = promisify(execFile);

async function timed<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const start = Date.now();
  const value = await fn();
  return [Date.now() - start, value];
}

export async function applyBench(): Promise<void> {
  const testenv = await startTestEnvironment();
  try {
    const kubeconfig = testenv.cluster.kubeconfig;
    const bin = testenv.env.BATON_TEST_BIN as string;
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfig);
    const work = await fs.mkdtemp(path.join(os.tmpdir(), "baton-bench-apply-"));
    const apps = 250;
    const count = await writeApps(path.join(work, "baton"), apps);
    await writeApps(path.join(work, "kubectl"), apps, "bench-kubectl");
    const admin = new KubeClient(kc);
    for (const ns of ["bench-baton", "bench-kubectl"]) await admin.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: ns } });
    admin.close();

    // kubectl: first apply, then the same apply again (its no-op).
    const kubectl = (args: string[]) => exec(path.join(bin, "kubectl"), ["--kubeconfig", kubeconfig, "--cache-dir", path.join(work, "kubectl-cache"), ...args], { maxBuffer: 64 << 20 });
    const [kFirst] = await timed(() => kubectl(["apply", "--server-side", "--field-manager=bench", "-f", path.join(work, "kubectl")]));
    const [kNoop] = await timed(() => kubectl(["apply", "--server-side", "--field-manager=bench", "-f", path.join(work, "kubectl")]));

    // Baton: the agent's own path (render → fetch live → plan → apply), twice.
    const client = new KubeClient(kc, { maxSockets: 64 });
    const manager = new ResourceManager(client, { concurrency: Number(process.env.BATON_BENCH_CONCURRENCY ?? 8) });
    const env = { name: "bench", path: "baton", namespace: "bench-baton", autoPromote: false, prune: true, requireDigests: true, allowDirectPush: false };
    let inventory: InventoryEntry[] = [];
    const reconcile = async () => {
      await client.discover();
      const rendered = await renderEnvironment(work, env, { clusterScoped: (k, g) => client.isClusterScoped(k, g) });
      const { plan, conflicts } = await planAgainstCluster(manager, rendered.objects, { owner: { namespace: "bench", name: "bench" }, previous: inventory });
      if (conflicts.length > 0) throw new BatonErrors(conflicts);
      const changes = await manager.apply(plan);
      inventory = plan.objects.map((o) => ({ id: inventoryKey(o.desired.id), v: o.desired.id.version, h: o.hash }));
      return changes;
    };
    const before1 = { ...client.stats };
    const cpu1 = process.cpuUsage();
    const [bFirst, firstChanges] = await timed(reconcile);
    const cpuFirst = process.cpuUsage(cpu1);
    const first = { reads: client.stats.reads - before1.reads, writes: client.stats.writes - before1.writes, dryRuns: client.stats.dryRuns - before1.dryRuns };
    const before2 = { ...client.stats };
    const [bNoop, noopChanges] = await timed(reconcile);
    const noop = { reads: client.stats.reads - before2.reads, writes: client.stats.writes - before2.writes, dryRuns: client.stats.dryRuns - before2.dryRuns };
    client.close();
    const created = firstChanges.filter((c) => c.action === "created").length;
    const unchanged = noopChanges.filter((c) => c.action === "unchanged").length;
    const rssMb = process.resourceUsage().maxRSS / 1024;

    console.log(`apply: ${count} objects against the real control plane`);
    console.log(`  first apply   baton ${bFirst} ms   kubectl ${kFirst} ms   ratio kubectl/baton ${(kFirst / bFirst).toFixed(2)}x (target >= 1: ${kFirst >= bFirst ? "met" : "MISSED"})`);
    console.log(`  no-op         baton ${bNoop} ms   kubectl ${kNoop} ms   ratio kubectl/baton ${(kNoop / bNoop).toFixed(2)}x`);
    console.log(`  baton requests, first apply: ${first.reads} reads, ${first.dryRuns} dry-runs, ${first.writes} writes (${created} created)`);
    console.log(`  baton requests, no-op:       ${noop.reads} reads, ${noop.dryRuns} dry-runs, ${noop.writes} writes (${unchanged} unchanged; target 0 writes: ${noop.writes === 0 ? "met" : "MISSED"})`);
    console.log(`  baton CPU time during first apply: ${((cpuFirst.user + cpuFirst.system) / 1000).toFixed(0)} ms (the API server shares the same 2 cores)`);
    console.log(`  peak RSS of this process: ${rssMb.toFixed(0)} MiB`);
    await fs.rm(work, { recursive: true, force: true });
  } finally {
    await testenv.stop();
  }
}
