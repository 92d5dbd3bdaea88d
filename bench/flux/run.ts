/**
 * `npm run bench flux`: Baton's agent and Flux (source-controller + kustomize-controller, with
 * notification-controller's receiver for webhooks) on the same control plane, the same git server and the
 * same repository, one after the other, each in its own namespaces. Prints every measure for both, and
 * the ratio Flux/Baton (> 1: Baton needs less).
 *
 * Fairness: the same intervals for both; Flux as its docs recommend for this (one GitRepository shared by
 * the Kustomizations, `prune: true`, `wait: true` so both check health); each tool runs alone on the
 * machine while it is measured (the other's processes are stopped); each counts its own API requests
 * through its own proxy. Baton runs as the container image runs it (`node dist/cli.js agent`).
 */
import { execFileSync } from "node:child_process";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parse } from "yaml";
import type { KubeObject } from "../../src/config/objects.js";
import { KubeClient } from "../../src/kube/client.js";
import { ConfigRepo } from "../../test/support/config-repo.js";
import { GitServer } from "../../test/support/git-server.js";
import { machineLock } from "../../test/support/machine-lock.js";
import { waitFor } from "../../test/support/processes.js";
import { startTestEnvironment, testKubeConfig } from "../../test/support/testenv.js";
import { writeApps } from "../fixtures.js";
import { machineLine } from "../machine.js";
import { batonContender, fluxContender, type Contender, type ContenderContext } from "./contenders.js";
import { countRequests, percentile, perInterval, type RequestCounts } from "./requests.js";

const repoRoot = path.resolve(import.meta.dirname, "../..");
const INTERVAL_S = Number(process.env.BATON_BENCH_FLUX_INTERVAL ?? 20);
const WINDOW_INTERVALS = Number(process.env.BATON_BENCH_FLUX_WINDOWS ?? 3);
const MANY = Number(process.env.BATON_BENCH_FLUX_ENVIRONMENTS ?? 50);
const HOOK_COMMITS = Number(process.env.BATON_BENCH_FLUX_COMMITS ?? 20);

interface Figures {
  /** Until every one of the 1,000 objects exists (applied), and until the tool reports Ready (health checked). */
  firstAppliedMs: number;
  firstApplyMs: number;
  idle: RequestCounts;
  idleGit: number;
  hookMs: number[];
  manyReadyMs: number;
  manyIdle: RequestCounts;
  manyIdleGit: number;
  peakRssMiB: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Ten objects: one app (Deployment, Service, ConfigMap, ServiceAccount) and six settings ConfigMaps; `round` changes one. */
function hookEnvironment(round: number): Record<string, string> {
  const files: Record<string, string> = {};
  for (let i = 0; i < 6; i++) {
    files[`hook/settings-${i}.yaml`] = `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings-${i}\ndata:\n  round: "${i === 0 ? round : 0}"\n`;
  }
  return files;
}

/** How many of writeApps' objects (Deployment, Service, ConfigMap, ServiceAccount per app) exist in `namespace`. */
async function appObjects(admin: KubeClient, namespace: string): Promise<number> {
  const kinds = [["apps/v1", "Deployment"], ["v1", "Service"], ["v1", "ConfigMap"], ["v1", "ServiceAccount"]] as const;
  const lists = await Promise.all(kinds.map(([apiVersion, kind]) => admin.list(apiVersion, kind, namespace)));
  return lists.flat().filter((o) => o.metadata.name.startsWith("app-")).length;
}

async function writeRepo(repo: ConfigRepo): Promise<void> {
  await writeApps(path.join(repo.dir, "first"), 250);
  await writeApps(path.join(repo.dir, "hook"), 1);
  for (let i = 0; i < MANY; i++) await writeApps(path.join(repo.dir, "many", `env-${String(i).padStart(2, "0")}`), 1);
  await repo.commit(hookEnvironment(0), "bench: 1,000 objects, a 10-object environment, 50 small environments");
}

async function measure(tool: Contender, admin: KubeClient, repo: ConfigRepo, server: GitServer): Promise<Figures> {
  const prefix = tool.name.toLowerCase();
  const head = await repo.git("rev-parse", "HEAD");
  const ns = async (name: string) => {
    await admin.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: `${prefix}-${name}` } });
    return `${prefix}-${name}`;
  };
  const readyAt = (name: string, sha: string, timeoutMs = 600_000) =>
    waitFor(`${tool.name} ${name} Ready at ${sha.slice(0, 7)}`, async () => ((await tool.readyRevision(name)) === sha ? true : undefined), timeoutMs, 50);
  const idleWindow = async () => {
    const from = performance.now();
    const gitFrom = server.requests.length;
    await sleep(INTERVAL_S * 1000 * WINDOW_INTERVALS);
    return { requests: perInterval(countRequests(tool.proxy.forwarded, from, performance.now()), WINDOW_INTERVALS), git: (server.requests.length - gitFrom) / WINDOW_INTERVALS };
  };

  await tool.start();
  // 1. First apply of 1,000 objects: the commit is already pushed; the environment is declared now.
  const firstNs = await ns("first");
  let started = performance.now();
  await tool.deploy({ name: "first", path: "first", namespace: firstNs, interval: `${INTERVAL_S}s`, trigger: "polled" });
  // Applied and Ready apart: Ready also waits for 250 Deployments to be observed rolled out by the
  // controller-manager, which is the cluster's time, not the tool's.
  const firstStarted = started;
  const applied = waitFor(`${tool.name} every object of first exists`, async () => ((await appObjects(admin, firstNs)) === 1000 ? performance.now() - firstStarted : undefined), 600_000, 250);
  await readyAt("first", head);
  const firstApplyMs = performance.now() - started;
  const firstAppliedMs = await applied;
  const configMaps = await admin.list("v1", "ConfigMap", firstNs);
  if (configMaps.filter((c) => c.metadata.name.startsWith("app-")).length !== 250) throw new Error(`${tool.name}: Ready but not every object exists in ${firstNs}`);

  // 2. No-op intervals over those 1,000 objects.
  const idle = await idleWindow();
  await tool.suspend("first");

  // 3. Push → applied through the webhook receiver, 10 objects, one commit at a time.
  const hookNs = await ns("hook");
  await tool.deploy({ name: "hook", path: "hook", namespace: hookNs, interval: "1h", trigger: "webhook" });
  await tool.notifyPush(head);
  await readyAt("hook", head);
  const hookMs: number[] = [];
  for (let i = 1; i <= HOOK_COMMITS; i++) {
    const sha = await repo.commit(hookEnvironment(i + (prefix === "flux" ? 1000 : 2000)), `bench: round ${i}`);
    started = performance.now();
    await tool.notifyPush(sha);
    await readyAt("hook", sha, 120_000);
    hookMs.push(performance.now() - started);
  }
  await tool.suspend("hook");

  // 4. Fifty environments of one repository.
  const current = await repo.git("rev-parse", "HEAD");
  const names = Array.from({ length: MANY }, (_, i) => `env-${String(i).padStart(2, "0")}`);
  const namespaces: string[] = [];
  for (const name of names) namespaces.push(await ns(name));
  started = performance.now();
  await Promise.all(names.map((name, i) => tool.deploy({ name, path: `many/${name}`, namespace: namespaces[i] ?? "", interval: `${INTERVAL_S}s`, trigger: "polled" })));
  for (const name of names) await readyAt(name, current);
  const manyReadyMs = performance.now() - started;
  const many = await idleWindow();
  const peakRssMiB = tool.peakRssMiB();
  await tool.stop();
  return { firstAppliedMs, firstApplyMs, idle: idle.requests, idleGit: idle.git, hookMs, manyReadyMs, manyIdle: many.requests, manyIdleGit: many.git, peakRssMiB };
}

function table(baton: Figures, flux: Figures): string {
  const rows: Array<[string, number, number, string]> = [];
  const add = (label: string, b: number, f: number, unit: string) => rows.push([label, b, f, unit]);
  add("first apply, 1,000 objects: all exist (s)", baton.firstAppliedMs / 1000, flux.firstAppliedMs / 1000, "s");
  add("first apply, 1,000 objects: Ready, health checked (s)", baton.firstApplyMs / 1000, flux.firstApplyMs / 1000, "s");
  add("no-op interval: API requests", baton.idle.total, flux.idle.total, "");
  add("no-op interval: dry-run applies", baton.idle.dryRuns, flux.idle.dryRuns, "");
  add("no-op interval: writes", baton.idle.writes, flux.idle.writes, "");
  add("no-op interval: git requests", baton.idleGit, flux.idleGit, "");
  add(`push → applied via webhook, p50 (ms, ${HOOK_COMMITS} commits)`, percentile(baton.hookMs, 50), percentile(flux.hookMs, 50), "ms");
  add("push → applied via webhook, p95 (ms)", percentile(baton.hookMs, 95), percentile(flux.hookMs, 95), "ms");
  add(`${MANY} environments of one repo: all Ready (s)`, baton.manyReadyMs / 1000, flux.manyReadyMs / 1000, "s");
  add(`${MANY} environments: API requests per interval`, baton.manyIdle.total, flux.manyIdle.total, "");
  add(`${MANY} environments: writes per interval`, baton.manyIdle.writes, flux.manyIdle.writes, "");
  add(`${MANY} environments: git requests per interval`, baton.manyIdleGit, flux.manyIdleGit, "");
  add("peak RSS, all processes (MiB)", baton.peakRssMiB, flux.peakRssMiB, "MiB");
  const fmt = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(n < 10 ? 2 : 1));
  const ratio = (b: number, f: number) => (b === 0 ? (f === 0 ? "=" : "∞ (Baton 0)") : `${(f / b).toFixed(2)}x`);
  const lines = ["| measure | Baton | Flux | Flux/Baton |", "|---|---:|---:|---:|"];
  for (const [label, b, f] of rows) lines.push(`| ${label} | ${fmt(b)} | ${fmt(f)} | ${ratio(b, f)} |`);
  return lines.join("\n");
}

async function installCrds(admin: KubeClient, dir: string): Promise<void> {
  for (const file of await fs.readdir(dir)) {
    for (const doc of (await fs.readFile(path.join(dir, file), "utf8")).split(/^---$/m)) {
      const crd = parse(doc) as KubeObject | null;
      if (crd?.kind === "CustomResourceDefinition") await admin.apply(crd, { fieldManager: "bench", force: true });
    }
  }
  await admin.discover(true);
}

export async function fluxBench(): Promise<void> {
  process.stderr.write("[bench flux] building Flux's controllers if needed (test/cluster/flux.sh) and Baton (npm run build)\n");
  const fluxOut = execFileSync("bash", [path.join(repoRoot, "test/cluster/flux.sh")], { stdio: ["ignore", "pipe", "inherit"], encoding: "utf8" }).trim().split("\n");
  const fluxDir = fluxOut[fluxOut.length - 1] ?? "";
  execFileSync("npm", ["run", "--silent", "build"], { cwd: repoRoot, stdio: "inherit" });
  // Alone on the machine while measuring: wait for any running integration suite to finish first.
  process.stderr.write("[bench flux] waiting for the machine's control-plane lock\n");
  const unlock = await machineLock();
  const testenv = await startTestEnvironment();
  Object.assign(process.env, testenv.env);
  const workDir = await fs.mkdtemp(path.join(os.tmpdir(), "baton-bench-flux-"));
  const admin = new KubeClient(testKubeConfig());
  const server = await GitServer.create();
  try {
    await installCrds(admin, path.join(fluxDir, "crds"));
    await installCrds(admin, path.join(repoRoot, "charts/baton/crds"));
    const repo = await ConfigRepo.create(server, "config", { "README.md": "bench\n" });
    await writeRepo(repo);
    const context: ContenderContext = { admin, repoUrl: repo.url, workDir, fluxDir, repoRoot };
    process.stderr.write("[bench flux] measuring Flux\n");
    const flux = await measure(await fluxContender(context, `${INTERVAL_S}s`), admin, repo, server);
    process.stderr.write("[bench flux] measuring Baton\n");
    const baton = await measure(await batonContender(context), admin, repo, server);
    const versions = Object.fromEntries([...(await fs.readFile(path.join(repoRoot, "test/cluster/versions.env"), "utf8")).matchAll(/^(FLUX_\w+_VERSION)=(\S+)/gm)].map((m) => [m[1], m[2]]));
    console.log(`flux: Baton's agent and Flux (source-controller ${versions.FLUX_SOURCE_VERSION}, kustomize-controller ${versions.FLUX_KUSTOMIZE_VERSION}, notification-controller ${versions.FLUX_NOTIFICATION_VERSION}) on one control plane`);
    console.log(`${machineLine()}; interval ${INTERVAL_S}s for both; idle windows of ${WINDOW_INTERVALS} intervals`);
    console.log(table(baton, flux));
    console.log("caveats: one run (no repetitions); both tools and the API server share the machine's cores; requests counted at each tool's own proxy (a watch counts once when opened); Flux's intervals are its GitRepository's and Kustomizations' (both set to the same value); Flux fetches artifacts from source-controller over HTTP, which is not a git request.");
    await repo.destroy();
    await fs.rm(workDir, { recursive: true, force: true });
  } catch (e) {
    process.stderr.write(`[bench flux] failed; the tools' logs are kept in ${workDir}\n`);
    throw e;
  } finally {
    admin.close();
    await server.destroy();
    await testenv.stop();
    unlock();
  }
}
