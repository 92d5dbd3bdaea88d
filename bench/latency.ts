/**
 * `npm run bench latency`: push → applied for a 10-object Environment on the real test control plane,
 * Baton's agent running as a child process (the same Contender as `npm run bench flux`). "Applied" is the
 * Environment's status reporting the pushed revision Ready; every one of its 10 objects is then checked to
 * carry the commit's round (each commit changes all 10). Two ways to learn of a push, one after the other:
 *   - the webhook (a signed GitHub push event to the agent's /webhook; the Environment's interval is 1h),
 *   - interval polling (interval 1 s; commits are spread over the interval so the push lands at every phase).
 *
 *   npm run bench latency      BATON_BENCH_COMMITS (20), BATON_BENCH_POLL_INTERVAL (1s)
 *   To see where the time goes: BATON_BENCH_AGENT_ARGS (extra agent flags: "--log-level debug" logs each run's
 *   "reconcile timings", per step in ms), BATON_BENCH_KEEP (keep the agent's log and work directory, whose path
 *   is printed, with each push's start time on stderr to match against the log).
 */
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseDuration } from "../src/config/duration.js";
import { KubeClient } from "../src/kube/client.js";
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
const AGENT_ARGS = (process.env.BATON_BENCH_AGENT_ARGS ?? "").split(" ").filter((a) => a !== "");
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

/** Pushes COMMITS commits to `folder`, one at a time, and times each until the Environment reports it Ready. */
async function pushes(tool: Contender, admin: KubeClient, repo: ConfigRepo, name: string, folder: string, namespace: string, options: { webhook: boolean }): Promise<number[]> {
  const times: number[] = [];
  for (let round = 1; round <= COMMITS; round++) {
    // Polling: start each push at a different phase of the interval (evenly spread, not random, so runs compare).
    if (!options.webhook) await sleep(((round * 0.618) % 1) * POLL_MS);
    const sha = await repo.commit(tenObjects(folder, round), `bench: ${folder} round ${round}`);
    const started = performance.now();
    const startedAt = new Date();
    if (options.webhook) await tool.notifyPush(sha);
    await waitFor(`${name} Ready at ${sha.slice(0, 7)}`, async () => ((await tool.readyRevision(name)) === sha ? true : undefined), 120_000, 10);
    times.push(performance.now() - started);
    if (KEEP) process.stderr.write(`[bench latency] ${name} ${sha.slice(0, 7)} pushed ${startedAt.toISOString()}: ${(times.at(-1) ?? 0).toFixed(0)} ms\n`);
    if (!(await allAtRound(admin, namespace, round))) throw new Error(`${name} reported ${sha.slice(0, 7)} Ready but not all 10 objects carry round ${round}`);
  }
  return times;
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
    tool = await batonContender({ admin, repoUrl: repo.url, workDir, fluxDir: "", repoRoot, agentArgs: AGENT_ARGS });
    await tool.start();
    for (const ns of ["latency-hook", "latency-poll"]) await admin.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: ns } });
    const readyAt = (name: string, sha: string) => waitFor(`${name} Ready`, async () => ((await tool?.readyRevision(name)) === sha ? true : undefined), 120_000, 50);

    await tool.deploy({ name: "hook", path: "hook", namespace: "latency-hook", interval: "1h", trigger: "webhook" });
    await readyAt("hook", head);
    const hookMs = await pushes(tool, admin, repo, "hook", "hook", "latency-hook", { webhook: true });
    await tool.suspend("hook");

    await tool.deploy({ name: "poll", path: "poll", namespace: "latency-poll", interval: POLL_INTERVAL, trigger: "polled" });
    await readyAt("poll", await repo.git("rev-parse", "HEAD"));
    const pollMs = await pushes(tool, admin, repo, "poll", "poll", "latency-poll", { webhook: false });

    const p = (values: number[], q: number) => percentile(values, q).toFixed(0).padStart(6);
    console.log(`latency: push → applied (status Ready at the pushed revision, all 10 objects changed), ${COMMITS} commits each, one at a time`);
    console.log(machineLine());
    console.log(`  ${"".padEnd(34)} ${"p50 ms".padStart(6)} ${"p95 ms".padStart(6)} ${"max ms".padStart(6)}`);
    console.log(`  ${"webhook".padEnd(34)} ${p(hookMs, 50)} ${p(hookMs, 95)} ${p(hookMs, 100)}   (target p50 < 250 ms: ${percentile(hookMs, 50) < 250 ? "met" : "MISSED"})`);
    console.log(`  ${`polling, interval ${POLL_INTERVAL}`.padEnd(34)} ${p(pollMs, 50)} ${p(pollMs, 95)} ${p(pollMs, 100)}   (target: no slower than one interval plus the webhook's p50, ${(POLL_MS + percentile(hookMs, 50)).toFixed(0)} ms, at p95: ${percentile(pollMs, 95) <= POLL_MS + percentile(hookMs, 50) ? "met" : "MISSED"})`);
    console.log(`  ratio polling/webhook at p50: ${(percentile(pollMs, 50) / percentile(hookMs, 50)).toFixed(2)}x`);
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
