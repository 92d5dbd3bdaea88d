/**
 * `npm run bench latency`: push → applied for a 10-object Environment on the real test control plane,
 * Baton's agent running as a child process (the same Contender as `npm run bench flux`). "Applied" is the
 * Environment's status reporting the pushed revision Ready; every one of its 10 objects is then checked to
 * carry the commit's round (each commit changes all 10). Two ways to learn of a push, one after the other:
 *   - the webhook (a signed GitHub push event to the agent's /webhook; the Environment's interval is 1h),
 *   - interval polling (interval 1 s; commits are spread over the interval so the push lands at every phase).
 *
 *   npm run bench latency      BATON_BENCH_COMMITS (20), BATON_BENCH_POLL_INTERVAL (1s)
 * Besides the times it prints what they are made of, which does not vary with the machine's load: the
 * Kubernetes API requests the agent sent per webhook push (counted by the ApiProxy in front of it), until
 * the Environment was Ready and until the next push, by kind, and the git requests per push.
 *
 *   To see where the time goes: BATON_BENCH_AGENT_ARGS (extra agent flags: "--log-level debug" logs each run's
 *   "reconcile timings", per step in ms, whose medians over the webhook runs are then printed),
 *   BATON_BENCH_AGENT_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"), BATON_BENCH_KEEP (keep the
 *   agent's log and work directory, whose path is printed, with each push's start time on stderr to match
 *   against the log).
 */
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseDuration } from "../src/config/duration.js";
import { KubeClient } from "../src/kube/client.js";
import type { ForwardedRequest } from "../test/support/api-proxy.js";
import { installCrd } from "../test/support/agent-fixture.js";
import { ConfigRepo } from "../test/support/config-repo.js";
import { GitServer } from "../test/support/git-server.js";
import { machineLock } from "../test/support/machine-lock.js";
import { waitFor } from "../test/support/processes.js";
import { startTestEnvironment, testKubeConfig } from "../test/support/testenv.js";
import { buildDist, environmentsServed, repoRoot } from "./agent-process.js";
import { batonContender, type Contender } from "./flux/contenders.js";
import { percentile } from "./flux/requests.js";
import { machineLine } from "./machine.js";

const COMMITS = Number(process.env.BATON_BENCH_COMMITS ?? 20);
const POLL_INTERVAL = process.env.BATON_BENCH_POLL_INTERVAL ?? "1s";
const POLL_MS = parseDuration(POLL_INTERVAL) ?? 1000;
const words = (value: string | undefined) => (value ?? "").split(" ").filter((a) => a !== "");
const AGENT_ARGS = words(process.env.BATON_BENCH_AGENT_ARGS);
const AGENT_NODE_ARGS = words(process.env.BATON_BENCH_AGENT_NODE_ARGS);
const KEEP = process.env.BATON_BENCH_KEEP !== undefined;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Ten objects (Deployment, Service, ServiceAccount, seven ConfigMaps) in `folder`, every one labelled with `round`. */
function tenObjects(folder: string, round: number): Record<string, string> {
  const meta = (name: string) => `metadata:\n  name: ${name}\n  labels: {app: web, round: "${round}"}\n`;
  const files: Record<string, string> = {
    [`${folder}/deployment.yaml`]: `apiVersion: apps/v1\nkind: Deployment\n${meta("web")}spec:\n  replicas: 1\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      serviceAccountName: web\n      containers:\n        - name: main\n          image: ghcr.io/acme/web@sha256:${"ab".repeat(32)}\n`,
    [`${folder}/service.yaml`]: `apiVersion: v1\nkind: Service\n${meta("web")}spec:\n  selector: {app: web}\n  ports:\n    - port: 80\n      targetPort: 8080\n`,
    [`${folder}/serviceaccount.yaml`]: `apiVersion: v1\nkind: ServiceAccount\n${meta("web")}`,
  };
  for (let i = 0; i < 7; i++) files[`${folder}/settings-${i}.yaml`] = `apiVersion: v1\nkind: ConfigMap\n${meta(`settings-${i}`)}data:\n  round: "${round}"\n`;
  return files;
}

/** Every object of tenObjects in `namespace` carries `round` (read after the status said Ready). */
async function allAtRound(admin: KubeClient, namespace: string, round: number): Promise<boolean> {
  const objects = await Promise.all([
    admin.get("apps/v1", "Deployment", namespace, "web"), admin.get("v1", "Service", namespace, "web"), admin.get("v1", "ServiceAccount", namespace, "web"),
    ...Array.from({ length: 7 }, (_, i) => admin.get("v1", "ConfigMap", namespace, `settings-${i}`)),
  ]);
  return objects.every((o) => o?.metadata.labels?.round === String(round));
}

/** One push: when it started and when its Environment was seen Ready (performance.now()). */
interface PushWindow {
  started: number;
  ready: number;
}

/** Pushes COMMITS commits to `folder`, one at a time, and times each until the Environment reports it Ready. */
async function pushes(tool: Contender, admin: KubeClient, repo: ConfigRepo, name: string, folder: string, namespace: string, options: { webhook: boolean }): Promise<{ times: number[]; windows: PushWindow[] }> {
  const times: number[] = [];
  const windows: PushWindow[] = [];
  for (let round = 1; round <= COMMITS; round++) {
    // Polling: start each push at a different phase of the interval (evenly spread, not random, so runs compare).
    if (!options.webhook) await sleep(((round * 0.618) % 1) * POLL_MS);
    const sha = await repo.commit(tenObjects(folder, round), `bench: ${folder} round ${round}`);
    const started = performance.now();
    const startedAt = new Date();
    if (options.webhook) await tool.notifyPush(sha);
    await waitFor(`${name} Ready at ${sha.slice(0, 7)}`, async () => ((await tool.readyRevision(name)) === sha ? true : undefined), 120_000, 10);
    const ready = performance.now();
    times.push(ready - started);
    windows.push({ started, ready });
    if (KEEP) process.stderr.write(`[bench latency] ${name} ${sha.slice(0, 7)} pushed ${startedAt.toISOString()}: ${(times.at(-1) ?? 0).toFixed(0)} ms\n`);
    if (!(await allAtRound(admin, namespace, round))) throw new Error(`${name} reported ${sha.slice(0, 7)} Ready but not all 10 objects carry round ${round}`);
  }
  return { times, windows };
}

/** "PATCH configmaps (dry-run)", "POST selfsubjectaccessreviews", "PATCH environments/status": what a request does. */
export function requestKind(method: string, url: string): string {
  const parsed = new URL(url, "https://api");
  const parts = parsed.pathname.split("/").filter((p) => p !== "");
  // /api/v1/… or /apis/<group>/<version>/…, then optionally namespaces/<ns>, then <resource>[/<name>[/<sub>]]
  let rest = parts[0] === "api" ? parts.slice(2) : parts.slice(3);
  if (rest[0] === "namespaces" && rest.length > 2) rest = rest.slice(2);
  const resource = rest[0] ?? parsed.pathname;
  const sub = rest[2] ? `/${rest[2]}` : "";
  const flags = [parsed.searchParams.getAll("dryRun").includes("All") ? "dry-run" : "", parsed.searchParams.get("watch") === "true" || parsed.searchParams.get("watch") === "1" ? "watch" : ""].filter(Boolean);
  return `${method} ${resource}${sub}${flags.length > 0 ? ` (${flags.join(", ")})` : ""}`;
}

const median = (values: readonly number[]) => percentile(values, 50);

/**
 * The agent's API requests per push, from the proxy's record: until Ready (what the answer waited for, plus
 * anything sent in parallel) and until the next push (what the run did after the status said Ready). Medians
 * over the pushes, total and per kind.
 */
function requestsPerPush(requests: readonly ForwardedRequest[], windows: readonly PushWindow[]): { untilReady: number; untilNext: number; kinds: Array<{ kind: string; untilReady: number; untilNext: number }> } {
  const perPush = windows.map((w, i) => {
    const end = windows[i + 1]?.started ?? Number.POSITIVE_INFINITY;
    const untilReady = new Map<string, number>();
    const untilNext = new Map<string, number>();
    for (const r of requests) {
      if (r.at < w.started || r.at >= end) continue;
      const kind = requestKind(r.method, r.path);
      if (r.at < w.ready) untilReady.set(kind, (untilReady.get(kind) ?? 0) + 1);
      untilNext.set(kind, (untilNext.get(kind) ?? 0) + 1);
    }
    return { untilReady, untilNext };
  });
  const sum = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
  const kinds = [...new Set(perPush.flatMap((p) => [...p.untilNext.keys()]))].sort();
  return {
    untilReady: median(perPush.map((p) => sum(p.untilReady))),
    untilNext: median(perPush.map((p) => sum(p.untilNext))),
    kinds: kinds.map((kind) => ({ kind, untilReady: median(perPush.map((p) => p.untilReady.get(kind) ?? 0)), untilNext: median(perPush.map((p) => p.untilNext.get(kind) ?? 0)) })),
  };
}

/** Median of each step of the agent's "reconcile timings" (debug log) over the runs that applied one of `revisions`. */
async function stepMedians(logFile: string, revisions: ReadonlySet<string>): Promise<Array<[string, number]>> {
  const text = await fs.readFile(logFile, "utf8").catch(() => "");
  const steps = new Map<string, number[]>();
  for (const line of text.split("\n")) {
    if (!line.includes("reconcile timings")) continue;
    let entry: { revision?: string; ms?: Record<string, number> };
    try {
      entry = JSON.parse(line) as typeof entry;
    } catch {
      continue;
    }
    if (!entry.revision || !revisions.has(entry.revision) || !entry.ms) continue;
    for (const [step, ms] of Object.entries(entry.ms)) steps.set(step, [...(steps.get(step) ?? []), ms]);
  }
  return [...steps.entries()].map(([step, values]) => [step, median(values)]);
}

export async function latencyBench(): Promise<void> {
  buildDist();
  process.stderr.write("[bench latency] waiting for the machine's control-plane lock\n");
  const unlock = await machineLock();
  const testenv = await startTestEnvironment();
  Object.assign(process.env, testenv.env);
  const workDir = await fs.mkdtemp(path.join(os.tmpdir(), "baton-bench-latency-"));
  const admin = new KubeClient(testKubeConfig());
  const server = await GitServer.create();
  let tool: Contender | undefined;
  try {
    await installCrd(admin);
    await environmentsServed(admin);
    const repo = await ConfigRepo.create(server, "config", { ...tenObjects("hook", 0), ...tenObjects("poll", 0) });
    const head = await repo.git("rev-parse", "HEAD");
    tool = await batonContender({ admin, repoUrl: repo.url, workDir, fluxDir: "", repoRoot, agentArgs: AGENT_ARGS, agentNodeArgs: AGENT_NODE_ARGS });
    await tool.start();
    for (const ns of ["latency-hook", "latency-poll"]) await admin.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: ns } });
    const readyAt = (name: string, sha: string) => waitFor(`${name} Ready`, async () => ((await tool?.readyRevision(name)) === sha ? true : undefined), 120_000, 50);

    await tool.deploy({ name: "hook", path: "hook", namespace: "latency-hook", interval: "1h", trigger: "webhook" });
    await readyAt("hook", head);
    const gitBefore = server.requests.length;
    const hook = await pushes(tool, admin, repo, "hook", "hook", "latency-hook", { webhook: true });
    const hookMs = hook.times;
    const gitPerPush = (server.requests.length - gitBefore) / COMMITS;
    const hookRevisions = new Set(await Promise.all(Array.from({ length: COMMITS }, (_, i) => repo.git("rev-parse", `HEAD~${COMMITS - 1 - i}`))));
    await tool.suspend("hook");

    await tool.deploy({ name: "poll", path: "poll", namespace: "latency-poll", interval: POLL_INTERVAL, trigger: "polled" });
    await readyAt("poll", await repo.git("rev-parse", "HEAD"));
    const pollMs = (await pushes(tool, admin, repo, "poll", "poll", "latency-poll", { webhook: false })).times;
    const requests = requestsPerPush(tool.proxy.forwarded, hook.windows);
    const steps = await stepMedians(path.join(workDir, "baton-agent.log"), hookRevisions);

    const p = (values: number[], q: number) => percentile(values, q).toFixed(0).padStart(6);
    console.log(`latency: push → applied (status Ready at the pushed revision, all 10 objects changed), ${COMMITS} commits each, one at a time`);
    console.log(machineLine());
    console.log(`  ${"".padEnd(34)} ${"p50 ms".padStart(6)} ${"p95 ms".padStart(6)} ${"max ms".padStart(6)}`);
    console.log(`  ${"webhook".padEnd(34)} ${p(hookMs, 50)} ${p(hookMs, 95)} ${p(hookMs, 100)}   (target p50 < 250 ms: ${percentile(hookMs, 50) < 250 ? "met" : "MISSED"})`);
    console.log(`  ${`polling, interval ${POLL_INTERVAL}`.padEnd(34)} ${p(pollMs, 50)} ${p(pollMs, 95)} ${p(pollMs, 100)}   (target: no slower than one interval plus the webhook's p50, ${(POLL_MS + percentile(hookMs, 50)).toFixed(0)} ms, at p95: ${percentile(pollMs, 95) <= POLL_MS + percentile(hookMs, 50) ? "met" : "MISSED"})`);
    console.log(`  ratio polling/webhook at p50: ${(percentile(pollMs, 50) / percentile(hookMs, 50)).toFixed(2)}x`);
    console.log(`  webhook: API requests per push (median): ${requests.untilReady} until Ready, ${requests.untilNext} until the next push; git requests per push: ${gitPerPush.toFixed(1)}`);
    for (const k of requests.kinds) console.log(`    ${k.kind.padEnd(48)} ${String(k.untilReady).padStart(3)} ${String(k.untilNext).padStart(3)}`);
    if (steps.length > 0) console.log(`  webhook: reconcile step medians (ms, agent debug log): ${steps.map(([step, ms]) => `${step} ${ms}`).join(", ")}`);
    console.log("caveats: the timer starts after `git push` returned (the push itself is not counted); the webhook time includes the POST; Ready is read by polling the Environment every 10 ms; the agent, the API server and the git server share the machine's cores.");
    await repo.destroy();
  } finally {
    await tool?.stop();
    admin.close();
    await server.destroy();
    if (KEEP) process.stderr.write(`[bench latency] kept the agent's log and cache in ${workDir}\n`);
    else await fs.rm(workDir, { recursive: true, force: true });
    await testenv.stop();
    unlock();
  }
}
