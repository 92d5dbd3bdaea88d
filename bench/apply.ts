/**
 * Apply benchmark against the real test control plane: a first apply of 1,000 objects and a no-op
 * reconcile of the same 1,000, for Baton (plan + server-side apply, bounded concurrency), for
 * `kubectl apply --server-side` on an identical folder, and for a floor: the same applies as raw parallel
 * HTTP PATCHes at Baton's concurrency with no client logic (bench/apply-floor.ts). Prints the times, the
 * ratios Baton/floor and kubectl/Baton, and Baton's API request counts. Then the agent as it runs in its
 * pod (`node dist/cli.js agent`, a child process) reconciles an Environment of the same 1,000 objects from
 * git: its resident set idle and at its peak, from /proc, and what the idle figure is made of.
 */
import { execFile, execFileSync } from "node:child_process";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { ENV_API_VERSION, ENV_KIND, type EnvironmentObject } from "../src/agent/environment.js";
import { renderEnvironment } from "../src/config/render.js";
import { KubeClient } from "../src/kube/client.js";
import { loadKubeConfig } from "../src/kube/kubeconfig.js";
import { BatonErrors } from "../src/errors.js";
import { inventoryKey, type InventoryEntry } from "../src/kube/inventory.js";
import { ResourceManager } from "../src/kube/manager.js";
import { planAgainstCluster } from "../src/kube/planner.js";
import { installCrd, isReady } from "../test/support/agent-fixture.js";
import { ConfigRepo } from "../test/support/config-repo.js";
import { GitServer } from "../test/support/git-server.js";
import { machineLock } from "../test/support/machine-lock.js";
import { waitFor } from "../test/support/processes.js";
import { startTestEnvironment } from "../test/support/testenv.js";
import { buildDist, environmentsServed, repoRoot, startAgentProcess } from "./agent-process.js";
import { floorPatches, sendFloor } from "./apply-floor.js";
import { writeApps } from "./fixtures.js";
import { machineLine } from "./machine.js";

const exec = promisify(execFile);

async function timed<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const start = Date.now();
  const value = await fn();
  return [Date.now() - start, value];
}

/** Resident set (MiB) of a bare `node` that imported `specifier` and nothing else, after a GC. */
function moduleRss(specifier: string | undefined): number {
  const load = specifier ? `await import(${JSON.stringify(specifier)});` : "";
  const out = execFileSync(process.execPath, ["--expose-gc", "--input-type=module", "-e", `${load} globalThis.gc(); await new Promise((r) => setTimeout(r, 100)); console.log(process.memoryUsage().rss)`], { cwd: repoRoot, encoding: "utf8" });
  return Number(out.trim()) / 2 ** 20;
}

export async function applyBench(): Promise<void> {
  buildDist();
  process.stderr.write("[bench apply] waiting for the machine's control-plane lock\n");
  const unlock = await machineLock();
  const testenv = await startTestEnvironment();
  Object.assign(process.env, testenv.env); // the agent's ApiProxy finds the control plane through these
  try {
    const kubeconfig = testenv.cluster.kubeconfig;
    const bin = testenv.env.BATON_TEST_BIN as string;
    const kc = loadKubeConfig(kubeconfig);
    const work = await fs.mkdtemp(path.join(os.tmpdir(), "baton-bench-apply-"));
    const apps = 250;
    const count = await writeApps(path.join(work, "baton"), apps);
    await writeApps(path.join(work, "kubectl"), apps, "bench-kubectl");
    await writeApps(path.join(work, "floor"), apps);
    const admin = new KubeClient(kc);
    for (const ns of ["bench-baton", "bench-kubectl", "bench-floor", "bench-agent", "bench-agent-objects"]) await admin.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: ns } });
    const concurrency = Number(process.env.BATON_BENCH_CONCURRENCY ?? 8);

    // kubectl: first apply, then the same apply again (its no-op).
    const kubectl = (args: string[]) => exec(path.join(bin, "kubectl"), ["--kubeconfig", kubeconfig, "--cache-dir", path.join(work, "kubectl-cache"), ...args], { maxBuffer: 64 << 20 });
    const [kFirst] = await timed(() => kubectl(["apply", "--server-side", "--field-manager=bench", "-f", path.join(work, "kubectl")]));
    const [kNoop] = await timed(() => kubectl(["apply", "--server-side", "--field-manager=bench", "-f", path.join(work, "kubectl")]));

    // The floor: the same applies, raw, at Baton's concurrency; then the same again (an apply-everything no-op).
    const patches = await floorPatches(path.join(work, "floor"), "bench-floor");
    const fFirst = await sendFloor(kc, patches, concurrency);
    const fAgain = await sendFloor(kc, patches, concurrency);

    // Baton: the agent's own path (render → fetch live → plan → apply), twice.
    const client = new KubeClient(kc, { maxSockets: 64 });
    const manager = new ResourceManager(client, { concurrency });
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

    // The agent as a pod runs it, on the same 1,000 objects from git.
    const agentFigures = await agentRss(admin, work, apps);
    admin.close();
    const modules = { node: moduleRss(undefined), client: moduleRss("@kubernetes/client-node"), agent: moduleRss("./dist/cli/agent.js") };

    const x = (a: number, b: number) => `${(a / b).toFixed(2)}x`;
    console.log(`apply: ${count} objects against the real control plane, ${concurrency} in flight`);
    console.log(machineLine());
    console.log(`  first apply   baton ${bFirst} ms   floor ${fFirst.toFixed(0)} ms   kubectl ${kFirst} ms`);
    console.log(`    baton/floor ${x(bFirst, fFirst)} (target <= 1.3: ${bFirst <= 1.3 * fFirst ? "met" : "MISSED"})   kubectl/baton ${x(kFirst, bFirst)} (target >= 3: ${kFirst >= 3 * bFirst ? "met" : "MISSED"})   kubectl/floor ${x(kFirst, fFirst)} (the most any client reaches at this concurrency)`);
    console.log(`  no-op         baton ${bNoop} ms   floor (the same ${patches.length} PATCHes again) ${fAgain.toFixed(0)} ms   kubectl ${kNoop} ms   kubectl/baton ${x(kNoop, bNoop)}`);
    console.log(`  baton requests, first apply: ${first.reads} reads, ${first.dryRuns} dry-runs, ${first.writes} writes (${created} created)`);
    console.log(`  baton requests, no-op:       ${noop.reads} reads, ${noop.dryRuns} dry-runs, ${noop.writes} writes (${unchanged} unchanged; target 0 writes: ${noop.writes === 0 ? "met" : "MISSED"})`);
    console.log(`  baton CPU time during first apply: ${((cpuFirst.user + cpuFirst.system) / 1000).toFixed(0)} ms (the API server shares the same 2 cores)`);
    console.log(`  peak RSS of this benchmark process (Baton's apply path in-process, plus the harness): ${rssMb.toFixed(0)} MiB`);
    console.log(`  agent process (node dist/cli.js agent, one Environment of these ${count} objects from git):`);
    console.log(`    RSS idle ${agentFigures.idleMiB.toFixed(0)} MiB (target < 100: ${agentFigures.idleMiB < 100 ? "met" : "MISSED"}); peak ${agentFigures.peakMiB.toFixed(0)} MiB by the time all ${count} are applied and Ready (target < 150: ${agentFigures.peakMiB < 150 ? "met" : "MISSED"}); ${agentFigures.afterMiB.toFixed(0)} MiB after; Ready ${(agentFigures.readyMs / 1000).toFixed(1)} s after the Environment was created`);
    console.log(`    what idle is made of (RSS of a bare node after importing only this): nothing ${modules.node.toFixed(0)} MiB; @kubernetes/client-node (loaded only for exec/auth-provider kubeconfig users) ${modules.client.toFixed(0)} MiB; the agent command's modules, dist/cli/agent.js ${modules.agent.toFixed(0)} MiB`);
    await fs.rm(work, { recursive: true, force: true });
  } finally {
    await testenv.stop();
    unlock();
  }
}

/** One agent process reconciling one Environment of `apps` × 4 objects from the test git server. */
async function agentRss(admin: KubeClient, work: string, apps: number): Promise<{ idleMiB: number; peakMiB: number; afterMiB: number; readyMs: number }> {
  await installCrd(admin);
  await environmentsServed(admin);
  const server = await GitServer.create();
  const repo = await ConfigRepo.create(server, "apply", { "README.md": "bench\n" });
  await writeApps(path.join(repo.dir, "apps"), apps);
  const head = await repo.commit({}, "bench: 1,000 objects");
  const agent = await startAgentProcess({ workDir: work, name: "agent", namespace: "bench-agent" });
  try {
    await new Promise((r) => setTimeout(r, 2000));
    const idleMiB = agent.stats().rssMiB;
    const created = performance.now();
    await admin.create({ apiVersion: ENV_API_VERSION, kind: ENV_KIND, metadata: { name: "apps", namespace: "bench-agent" },
      spec: { url: repo.url, branch: "main", path: "apps", interval: "1h", timeout: "5m", targetNamespace: "bench-agent-objects" } });
    await waitFor("1,000 objects Ready", async () => {
      const env = await admin.get(ENV_API_VERSION, ENV_KIND, "bench-agent", "apps");
      return env && isReady(env as EnvironmentObject, head) ? true : undefined;
    }, 600_000, 200);
    const readyMs = performance.now() - created;
    const { peakRssMiB, rssMiB } = agent.stats();
    return { idleMiB, peakMiB: peakRssMiB, afterMiB: rssMiB, readyMs };
  } finally {
    await agent.stop();
    await repo.destroy();
    await server.destroy();
  }
}
