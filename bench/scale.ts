/**
 * `npm run bench scale`: many Environments of one repository on one agent, against the real test control
 * plane. Each Environment has its own folder of K ConfigMaps. The agent runs as a child process
 * (bench/agent-process.ts): its ApiProxy counts its API requests, the test git server counts git
 * requests, /proc gives its CPU seconds and resident set. Three runs, one after the other:
 *   - 1 Environment on one agent (the baseline the others are divided by),
 *   - N Environments on one agent,
 *   - the same N split over three agent processes (`--shard i --shards 3`; figures summed over them).
 * Each run: time from creating the Environments until all are Ready (cold start), then, while nothing
 * changes, git requests and API requests per interval (steady state), then a push that changes every
 * folder, found by polling, and the time until every Environment reports it.
 * A floor for the cold start, measured in the same run: the same N×K ConfigMaps sent as raw server-side
 * apply PATCHes (bench/apply-floor.ts), as many in flight as the agent's connection pool allows, with no
 * git, render, plan, status or health wait: what creating the objects alone costs this control plane.
 *
 *   npm run bench scale        BATON_BENCH_ENVS (200), BATON_BENCH_OBJECTS (20), BATON_BENCH_INTERVAL (10s),
 *                              BATON_BENCH_WINDOWS (3 intervals of steady state)
 *   For profiling: BATON_BENCH_RUNS (which runs: "1,many,shards", the default), BATON_BENCH_AGENT_ARGS (extra
 *   agent flags, e.g. "--log-level info"), BATON_BENCH_AGENT_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/p"),
 *   BATON_BENCH_KEEP (keep the agents' logs and work directory, whose path is printed).
 */
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { ENV_API_VERSION, ENV_KIND, type EnvironmentObject } from "../src/agent/environment.js";
import { parseDuration } from "../src/config/duration.js";
import { KubeClient } from "../src/kube/client.js";
import { Informer } from "../src/kube/informer.js";
import { silentLogger } from "../src/log.js";
import { installCrd, isReady } from "../test/support/agent-fixture.js";
import { ConfigRepo } from "../test/support/config-repo.js";
import { GitServer } from "../test/support/git-server.js";
import { machineLock } from "../test/support/machine-lock.js";
import { startTestEnvironment, testKubeConfig } from "../test/support/testenv.js";
import { floorPatches, sendFloor } from "./apply-floor.js";
import { buildDist, environmentsServed, startAgentProcess, type AgentProcess } from "./agent-process.js";
import { countRequests, type RequestCounts } from "./flux/requests.js";
import { machineLine } from "./machine.js";

const ENVS = Number(process.env.BATON_BENCH_ENVS ?? 200);
const OBJECTS = Number(process.env.BATON_BENCH_OBJECTS ?? 20);
const INTERVAL = process.env.BATON_BENCH_INTERVAL ?? "10s";
const INTERVAL_MS = parseDuration(INTERVAL) ?? 10_000;
const WINDOWS = Number(process.env.BATON_BENCH_WINDOWS ?? 3);
const RUNS = new Set((process.env.BATON_BENCH_RUNS ?? "1,many,shards").split(",").map((r) => r.trim()));
const AGENT_ARGS = (process.env.BATON_BENCH_AGENT_ARGS ?? "").split(" ").filter((a) => a !== "");
const AGENT_NODE_ARGS = (process.env.BATON_BENCH_AGENT_NODE_ARGS ?? "").split(" ").filter((a) => a !== "");
const KEEP = process.env.BATON_BENCH_KEEP !== undefined;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const folder = (env: number, version: string): Record<string, string> => Object.fromEntries(Array.from({ length: OBJECTS }, (_, j) => [
  `environments/e${env}/cm-${j}.yaml`,
  `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: e${env}-cm-${j}}\ndata: {version: "${version}", index: "${j}"}\n`,
]));
const files = (envs: number, version: string) => Object.assign({}, ...Array.from({ length: envs }, (_, i) => folder(i, version))) as Record<string, string>;

/** Git HTTP requests to one repository, sorted: protocol-v2 ls-refs (a head check) and pack downloads. */
function gitCounts(requests: readonly string[], repo: string): { total: number; lsRefs: number; packs: number } {
  const mine = requests.filter((r) => r.includes(`/${repo}.git/`));
  return {
    total: mine.length,
    lsRefs: mine.filter((r) => r.startsWith("POST") && r.endsWith("git-upload-pack v2")).length,
    packs: mine.filter((r) => r.startsWith("POST") && r.endsWith("git-upload-pack")).length,
  };
}

interface RunResult {
  envs: number;
  shards: number;
  idleRssMiB: number;
  firstReadyS: number;
  allReadyS: number;
  /** API requests of the agent(s) from creating the Environments until all were Ready, per Environment. */
  coldApi: RequestCounts;
  gitPerInterval: number;
  lsRefsPerInterval: number;
  packsPerInterval: number;
  api: RequestCounts;
  pushS: number;
  pushPacks: number;
  /** Summed over the shard processes, and the largest single one. */
  peakRssMiB: number;
  maxPeakRssMiB: number;
  cpuS: number;
  /** CPU seconds during the steady-state window only. */
  idleCpuS: number;
}

async function run(envs: number, shards: number, server: GitServer, admin: KubeClient, work: string): Promise<RunResult> {
  const label = `${envs}x${shards}`;
  process.stderr.write(`[bench scale] ${envs} Environments on ${shards} agent process(es)\n`);
  const namespace = `bench-scale-${envs}-${shards}-${Date.now().toString(36)}`;
  await admin.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: namespace } });
  const repoName = `scale-${label}`;
  const repo = await ConfigRepo.create(server, repoName, files(envs, "1"));
  const agents: AgentProcess[] = [];
  let stopWatching: () => void = () => undefined;
  const sum = () => agents.map((a) => a.stats()).reduce((x, y) => ({ rssMiB: x.rssMiB + y.rssMiB, peakRssMiB: x.peakRssMiB + y.peakRssMiB, cpuS: x.cpuS + y.cpuS }));
  try {
    for (let shard = 0; shard < shards; shard++) {
      agents.push(await startAgentProcess({ workDir: work, name: `agent-${label}-${shard}`, namespace, extraArgs: ["--shard", String(shard), "--shards", String(shards), ...AGENT_ARGS],
        nodeArgs: AGENT_NODE_ARGS }));
    }
    await sleep(1000);
    const idleRssMiB = sum().rssMiB;
    // The Environments as a watch shows them (a LIST of 200 Environments every 100 ms would load the
    // machine the agent shares, and a coarser poll would blur the times measured).
    const shown = new Map<string, EnvironmentObject>();
    let onChange: () => void = () => undefined;
    const watching = new AbortController();
    const informer = new Informer(admin.withSignal(watching.signal), ENV_API_VERSION, ENV_KIND, namespace, {
      upsert: (o) => { shown.set(o.metadata.name, o as EnvironmentObject); onChange(); },
      remove: (o) => { shown.delete(o.metadata.name); onChange(); },
    }, silentLogger, { retryMs: 500 });
    void informer.run(watching.signal);
    stopWatching = () => watching.abort();
    /** Resolves once `count` of the shown Environments pass `ready` (all `envs` of them when count is envs). */
    const untilReady = (what: string, ready: (e: EnvironmentObject) => boolean, onProgress: (n: number) => void = () => undefined) => new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), 900_000);
      onChange = () => {
        const n = [...shown.values()].filter(ready).length;
        onProgress(n);
        if (n === envs) {
          clearTimeout(timer);
          onChange = () => undefined;
          resolve();
        }
      };
      onChange();
    });
    const first = await repo.git("rev-parse", "HEAD");

    // Cold start: every Environment created at once, the commit already pushed.
    const created = performance.now();
    let firstReadyS = 0;
    let lastReady = 0;
    await Promise.all(Array.from({ length: envs }, (_, i) => admin.create({ apiVersion: ENV_API_VERSION, kind: ENV_KIND, metadata: { name: `e${i}`, namespace },
      spec: { url: repo.url, branch: "main", path: `environments/e${i}`, interval: INTERVAL, timeout: "60s", targetNamespace: namespace } })));
    await untilReady(`${envs} Environments Ready`, (e) => isReady(e, first), (ready) => {
      if (ready > 0 && firstReadyS === 0) firstReadyS = (performance.now() - created) / 1000;
      // Progress on stderr, at most one line per 10 Environments.
      if (Math.floor(ready / 10) !== Math.floor(lastReady / 10) || (ready === envs && lastReady !== envs)) process.stderr.write(`[bench scale]   ${ready}/${envs} Ready after ${((performance.now() - created) / 1000).toFixed(1)} s\n`);
      lastReady = ready;
    });
    const allReadyS = (performance.now() - created) / 1000;
    const cold = agents.map((a) => countRequests(a.proxy.forwarded, created, created + allReadyS * 1000));
    const perEnv = (n: number) => n / envs;
    const coldApi: RequestCounts = {
      total: perEnv(cold.reduce((s, c) => s + c.total, 0)), reads: perEnv(cold.reduce((s, c) => s + c.reads, 0)), watches: perEnv(cold.reduce((s, c) => s + c.watches, 0)),
      dryRuns: perEnv(cold.reduce((s, c) => s + c.dryRuns, 0)), writes: perEnv(cold.reduce((s, c) => s + c.writes, 0)),
    };
    if (KEEP) {
      // Which requests a cold start is made of, for whoever profiles it: method and path with names blurred.
      const kinds = new Map<string, number>();
      for (const r of agents.flatMap((a) => a.proxy.forwarded).filter((r) => r.at >= created && r.at < created + allReadyS * 1000)) {
        const key = `${r.method} ${r.path.replace(/\?.*$/, "").replace(/\/namespaces\/[^/]+/, "/namespaces/*").replace(/\/(e\d+|e\d+-cm-\d+|[a-z0-9.-]+\.[a-z0-9-]+)$/, "/*")}`;
        kinds.set(key, (kinds.get(key) ?? 0) + 1);
      }
      for (const [key, n] of [...kinds].sort((a, b) => b[1] - a[1]).slice(0, 20)) process.stderr.write(`[bench scale]   cold start: ${String(n).padStart(6)} ${key}\n`);
    }

    // Steady state: one interval to settle, then WINDOWS intervals in which nothing changes.
    await sleep(INTERVAL_MS);
    const git0 = server.requests.length;
    const cpu0 = sum().cpuS;
    const from = performance.now();
    await sleep(WINDOWS * INTERVAL_MS);
    const to = performance.now();
    const intervals = (to - from) / INTERVAL_MS;
    const idleCpuS = sum().cpuS - cpu0;
    const git = gitCounts(server.requests.slice(git0), repoName);
    const counts = agents.map((a) => countRequests(a.proxy.forwarded, from, to));
    const per = (n: number) => n / intervals;
    const api: RequestCounts = {
      total: per(counts.reduce((s, c) => s + c.total, 0)), reads: per(counts.reduce((s, c) => s + c.reads, 0)), watches: per(counts.reduce((s, c) => s + c.watches, 0)),
      dryRuns: per(counts.reduce((s, c) => s + c.dryRuns, 0)), writes: per(counts.reduce((s, c) => s + c.writes, 0)),
    };

    // A push that changes every folder, found by polling (no webhook).
    const git1 = server.requests.length;
    const pushed = await repo.commit(files(envs, "2"), "change every environment");
    const pushAt = performance.now();
    await untilReady("push applied everywhere", (e) => isReady(e, pushed));
    const pushS = (performance.now() - pushAt) / 1000;
    const pushPacks = gitCounts(server.requests.slice(git1), repoName).packs;
    const { peakRssMiB, cpuS } = sum();
    const maxPeakRssMiB = Math.max(...agents.map((a) => a.stats().peakRssMiB));
    return { envs, shards, idleRssMiB, firstReadyS, allReadyS, coldApi, gitPerInterval: per(git.total), lsRefsPerInterval: per(git.lsRefs), packsPerInterval: per(git.packs), api, pushS, pushPacks, peakRssMiB, maxPeakRssMiB, cpuS, idleCpuS };
  } finally {
    stopWatching();
    for (const agent of agents) await agent.stop();
    await repo.destroy();
    await admin.delete({ group: "", version: "v1", kind: "Namespace", name: namespace }).catch(() => undefined);
  }
}

/** In flight at once in the floor: the agent's pool (`--concurrency` 8, two sockets each). */
const FLOOR_IN_FLIGHT = 16;

/** Seconds to create the many-run's objects as raw PATCHes in a namespace of their own. */
async function coldStartFloor(admin: KubeClient, work: string): Promise<number> {
  const namespace = `bench-scale-floor-${Date.now().toString(36)}`;
  const dir = path.join(work, "floor");
  await fs.mkdir(dir, { recursive: true });
  for (const [file, text] of Object.entries(files(ENVS, "1"))) await fs.writeFile(path.join(dir, file.replaceAll("/", "-")), text);
  await admin.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: namespace } });
  try {
    const patches = await floorPatches(dir, namespace);
    return (await sendFloor(testKubeConfig(), patches, FLOOR_IN_FLIGHT)) / 1000;
  } finally {
    await admin.delete({ group: "", version: "v1", kind: "Namespace", name: namespace }).catch(() => undefined);
  }
}

export async function scaleBench(): Promise<void> {
  buildDist();
  process.stderr.write("[bench scale] waiting for the machine's control-plane lock\n");
  const unlock = await machineLock();
  const testenv = await startTestEnvironment();
  Object.assign(process.env, testenv.env); // the ApiProxy and the fixtures find the control plane through these
  const server = await GitServer.create();
  const work = await fs.mkdtemp(path.join(os.tmpdir(), "baton-bench-scale-"));
  try {
    const admin = new KubeClient(testKubeConfig());
    await installCrd(admin);
    await environmentsServed(admin);
    // A run left out (BATON_BENCH_RUNS) prints "-": every figure of it is NaN.
    const skipped = (envs: number, shards: number): RunResult => ({ envs, shards, idleRssMiB: NaN, firstReadyS: NaN, allReadyS: NaN, coldApi: { total: NaN, reads: NaN, watches: NaN, dryRuns: NaN, writes: NaN }, gitPerInterval: NaN, lsRefsPerInterval: NaN, packsPerInterval: NaN,
      api: { total: NaN, reads: NaN, watches: NaN, dryRuns: NaN, writes: NaN }, pushS: NaN, pushPacks: NaN, peakRssMiB: NaN, maxPeakRssMiB: NaN, cpuS: NaN, idleCpuS: NaN });
    const maybe = (name: string, envs: number, shards: number) => (RUNS.has(name) ? run(envs, shards, server, admin, work) : Promise.resolve(skipped(envs, shards)));
    const one = await maybe("1", 1, 1);
    const many = await maybe("many", ENVS, 1);
    const sharded = await maybe("shards", ENVS, 3);
    const floorS = RUNS.has("many") ? await coldStartFloor(admin, work) : NaN;
    admin.close();
    console.log(`scale: ${ENVS} Environments × ${OBJECTS} ConfigMaps of one repository and branch (interval ${INTERVAL}; steady state over ${WINDOWS} intervals), against 1 Environment`);
    console.log(machineLine());
    const f = (n: number, digits: number) => (Number.isNaN(n) ? "-" : n.toFixed(digits));
    const ratio = (a: number, b: number) => (Number.isNaN(a) || Number.isNaN(b) ? "-" : b === 0 ? (a === 0 ? "=" : "n/a") : `${(a / b).toFixed(1)}x`);
    const header = `  ${"".padEnd(40)} ${"1 env".padStart(8)} ${`${ENVS} envs`.padStart(9)} ${"ratio".padStart(7)} ${"3 shards".padStart(9)}`;
    console.log(header);
    const row = (name: string, pick: (r: RunResult) => number, digits: number, note = "") =>
      console.log(`  ${name.padEnd(40)} ${f(pick(one), digits).padStart(8)} ${f(pick(many), digits).padStart(9)} ${ratio(pick(many), pick(one)).padStart(7)} ${f(pick(sharded), digits).padStart(9)}${note ? `   ${note}` : ""}`);
    row("cold start: first Ready (s)", (r) => r.firstReadyS, 1);
    row("cold start: all Ready (s)", (r) => r.allReadyS, 1, `(target < 10 s with ${ENVS}: ${many.allReadyS < 10 ? "met" : "MISSED"})`);
    console.log(`    floor: the same ${ENVS * OBJECTS} ConfigMaps as raw server-side applies, ${FLOOR_IN_FLIGHT} in flight: ${f(floorS, 1)} s; all Ready/floor ${ratio(many.allReadyS, floorS)}`);
    row("  API requests per Environment", (r) => r.coldApi.total, 1);
    row("    reads (GET/LIST)", (r) => r.coldApi.reads, 1);
    row("    writes (of which creates: the objects)", (r) => r.coldApi.writes, 1, `(${OBJECTS} objects each)`);
    row("git requests per interval (idle)", (r) => r.gitPerInterval, 2);
    row("  of which head checks (ls-refs)", (r) => r.lsRefsPerInterval, 2, `(target 1 per repository and branch: ${many.lsRefsPerInterval <= 1.05 ? "met" : "MISSED"})`);
    row("  of which pack downloads", (r) => r.packsPerInterval, 2);
    row("API requests per interval (idle)", (r) => r.api.total, 1);
    row("  reads (GET/LIST)", (r) => r.api.reads, 1);
    row("  watches opened", (r) => r.api.watches, 1);
    row("  writes (PATCH/PUT/POST/DELETE)", (r) => r.api.writes, 1, `(target 0: ${[many, sharded].every((r) => r.api.writes === 0 || Number.isNaN(r.api.writes)) ? "met" : "MISSED"})`);
    row("agent CPU in steady state (s/interval)", (r) => r.idleCpuS / WINDOWS, 2);
    row("push → applied everywhere, polling (s)", (r) => r.pushS, 1);
    row("  pack downloads for that push", (r) => r.pushPacks, 0, "(one per agent would be the floor)");
    row("agent RSS idle, no Environment (MiB)", (r) => r.idleRssMiB, 0, "(3 shards: summed)");
    row("agent peak RSS (MiB)", (r) => r.peakRssMiB, 0, "(3 shards: summed)");
    row("  largest single agent process (MiB)", (r) => r.maxPeakRssMiB, 0);
    row("agent CPU over the whole run (s)", (r) => r.cpuS, 1, "(3 shards: summed)");
    console.log("caveats: one run, no repetitions; the agent(s), the API server, etcd and the git server share the machine's cores, so timings vary with load; request counts do not.");
  } finally {
    await server.destroy();
    if (KEEP) process.stderr.write(`[bench scale] kept the agents' logs and caches in ${work}\n`);
    else await fs.rm(work, { recursive: true, force: true });
    await testenv.stop();
    unlock();
  }
}
