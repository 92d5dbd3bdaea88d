/**
 * The two systems of `npm run bench flux`, behind one interface so every measure runs the same steps on
 * both: Baton's agent (the built `dist/cli.js agent`, as the container image runs it) and Flux's
 * source-controller + kustomize-controller + notification-controller (local processes built by
 * test/cluster/flux.sh). Each talks to the shared control plane through its own ApiProxy, which counts
 * its requests; each keeps its own objects in its own namespaces.
 */
import { createHmac, randomUUID } from "node:crypto";
import { promises as fs } from "node:fs";
import path from "node:path";
import { ApiProxy } from "../../test/support/api-proxy.js";
import { freePort, startProcess, stopProcess, waitFor, type Managed } from "../../test/support/processes.js";
import type { KubeObject } from "../../src/config/objects.js";
import type { KubeClient } from "../../src/kube/client.js";
import { processStats, startAgentProcess, type AgentProcess } from "../agent-process.js";

export interface BenchEnvironment {
  name: string;
  /** Folder of the config repo. */
  path: string;
  /** Where its objects go (targetNamespace for both tools). */
  namespace: string;
  interval: string;
  /** "polled": found by the tool's interval; "webhook": the tool learns of pushes from its webhook receiver only. */
  trigger: "polled" | "webhook";
}

export interface Contender {
  readonly name: string;
  readonly proxy: ApiProxy;
  start(): Promise<void>;
  deploy(env: BenchEnvironment): Promise<void>;
  /** The commit this environment last applied and reports Ready for (health checked), if it is Ready. */
  readyRevision(name: string): Promise<string | undefined>;
  suspend(name: string): Promise<void>;
  /** Tells the tool's webhook receiver that `sha` was pushed to main. */
  notifyPush(sha: string): Promise<void>;
  /** Peak resident set size of all the tool's processes, summed (VmHWM from /proc). */
  peakRssMiB(): number;
  stop(): Promise<void>;
}

interface Shared {
  admin: KubeClient;
  repoUrl: string;
  workDir: string;
  fluxDir: string;
  repoRoot: string;
  /** Extra flags for Baton's agent (e.g. `--log-level debug`, whose "reconcile timings" say where a run's time goes). */
  agentArgs?: string[];
  /** Flags of node itself for Baton's agent (e.g. `--cpu-prof --cpu-prof-dir=…`). */
  agentNodeArgs?: string[];
}

const readyCondition = (obj: KubeObject | undefined) => {
  const status = obj?.status as { conditions?: Array<{ type: string; status: string; observedGeneration?: number }> } | undefined;
  return status?.conditions?.find((c) => c.type === "Ready");
};

const peakRss = (processes: readonly Managed[]) => processes.reduce((sum, p) => sum + processStats(p.pid).peakRssMiB, 0);

async function proxyKubeconfig(proxy: ApiProxy, file: string): Promise<void> {
  await fs.writeFile(file, await proxy.kubeconfigText(), { mode: 0o600 });
}

async function httpOk(url: string): Promise<true | undefined> {
  const res = await fetch(url).catch(() => undefined);
  return res?.ok ? true : undefined;
}

function githubPush(secret: string, repoUrl: string, sha: string): { body: string; headers: Record<string, string> } {
  const body = JSON.stringify({ ref: "refs/heads/main", after: sha, repository: { clone_url: repoUrl, full_name: "bench/config" } });
  return {
    body,
    headers: {
      "content-type": "application/json",
      "x-github-event": "push",
      "x-github-delivery": randomUUID(),
      "x-hub-signature-256": `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`,
    },
  };
}

async function post(url: string, push: { body: string; headers: Record<string, string> }): Promise<void> {
  const res = await fetch(url, { method: "POST", body: push.body, headers: push.headers });
  if (!res.ok) throw new Error(`webhook ${url} answered ${res.status}: ${await res.text()}`);
}

const WEBHOOK_SECRET = "bench-webhook-secret";

export async function batonContender(shared: Shared): Promise<Contender> {
  const namespace = "baton-bench";
  let agent: AgentProcess | undefined;
  const started = () => {
    if (!agent) throw new Error("the Baton agent is not started");
    return agent;
  };
  const ENV = "baton.dev/v1alpha1";
  return {
    name: "Baton",
    get proxy() {
      return started().proxy;
    },
    async start() {
      await shared.admin.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: namespace } });
      agent = await startAgentProcess({ workDir: shared.workDir, name: "baton-agent", namespace, env: { BATON_WEBHOOK_SECRET: WEBHOOK_SECRET }, ...(shared.agentArgs ? { extraArgs: shared.agentArgs } : {}), ...(shared.agentNodeArgs ? { nodeArgs: shared.agentNodeArgs } : {}) });
    },
    async deploy(env) {
      await shared.admin.create({
        apiVersion: ENV, kind: "Environment", metadata: { name: env.name, namespace },
        spec: { url: shared.repoUrl, branch: "main", path: env.path, interval: env.interval, timeout: "5m", prune: true, targetNamespace: env.namespace },
      });
    },
    async readyRevision(name) {
      const obj = await shared.admin.get(ENV, "Environment", namespace, name);
      const ready = readyCondition(obj);
      return ready?.status === "True" ? (obj?.status as { lastAppliedRevision?: string }).lastAppliedRevision : undefined;
    },
    async suspend(name) {
      await shared.admin.apply({ apiVersion: ENV, kind: "Environment", metadata: { name, namespace }, spec: { suspend: true } }, { fieldManager: "bench", force: true });
    },
    async notifyPush(sha) {
      await post(`http://127.0.0.1:${started().port}/webhook`, githubPush(WEBHOOK_SECRET, shared.repoUrl, sha));
    },
    peakRssMiB: () => started().stats().peakRssMiB,
    async stop() {
      await agent?.stop();
    },
  };
}

/** Flux's objects: one GitRepository polled at the benchmark's interval, one for webhook-only environments. */
const SOURCE_API = "source.toolkit.fluxcd.io/v1";
const KUSTOMIZE_API = "kustomize.toolkit.fluxcd.io/v1";
const NOTIFICATION_API = "notification.toolkit.fluxcd.io/v1";

export async function fluxContender(shared: Shared, pollInterval: string): Promise<Contender> {
  const proxy = await ApiProxy.start();
  const namespace = "flux-bench";
  const processes: Managed[] = [];
  let receiverUrl = "";
  const bin = (name: string) => path.join(shared.fluxDir, `${name}`);
  return {
    name: "Flux",
    proxy,
    async start() {
      await shared.admin.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: namespace } });
      const kubeconfig = path.join(shared.workDir, "flux.kubeconfig");
      await proxyKubeconfig(proxy, kubeconfig);
      const env = { ...process.env, KUBECONFIG: kubeconfig, RUNTIME_NAMESPACE: namespace };
      const storagePort = await freePort();
      const receiverPort = await freePort();
      receiverUrl = `http://127.0.0.1:${receiverPort}`;
      const common = async (healthPort: number) => ["--enable-leader-election=false", `--metrics-addr=127.0.0.1:${await freePort()}`, `--health-addr=127.0.0.1:${healthPort}`, "--log-level=error"];
      const health: number[] = [];
      const run = async (name: string, extra: string[]) => {
        const healthPort = await freePort();
        health.push(healthPort);
        processes.push(startProcess(name, bin(name), [...await common(healthPort), ...extra], path.join(shared.workDir, `${name}.log`), env));
      };
      const storage = path.join(shared.workDir, "flux-storage");
      await fs.mkdir(storage, { recursive: true });
      await run("source-controller", [`--storage-path=${storage}`, `--storage-addr=127.0.0.1:${storagePort}`, `--storage-adv-addr=127.0.0.1:${storagePort}`]);
      await run("kustomize-controller", ["--no-remote-bases=true"]);
      await run("notification-controller", [`--receiverAddr=127.0.0.1:${receiverPort}`, `--events-addr=127.0.0.1:${await freePort()}`]);
      for (const port of health) await waitFor(`Flux controller /readyz on ${port}`, () => httpOk(`http://127.0.0.1:${port}/readyz`), 120_000);

      const gitRepository = (name: string, interval: string) => ({
        apiVersion: SOURCE_API, kind: "GitRepository", metadata: { name, namespace },
        spec: { url: shared.repoUrl, interval, ref: { branch: "main" } },
      });
      await shared.admin.create(gitRepository("config", pollInterval));
      await shared.admin.create(gitRepository("config-hook", "1h"));
      await shared.admin.create({ apiVersion: "v1", kind: "Secret", metadata: { name: "webhook-token", namespace }, stringData: { token: WEBHOOK_SECRET } });
      await shared.admin.create({
        apiVersion: NOTIFICATION_API, kind: "Receiver", metadata: { name: "github", namespace },
        spec: { type: "github", events: ["push"], secretRef: { name: "webhook-token" }, resources: [{ apiVersion: SOURCE_API, kind: "GitRepository", name: "config-hook" }] },
      });
      const hookPath = await waitFor("Flux Receiver webhookPath", async () => {
        const receiver = await shared.admin.get(NOTIFICATION_API, "Receiver", namespace, "github");
        return (receiver?.status as { webhookPath?: string } | undefined)?.webhookPath || undefined;
      }, 60_000);
      receiverUrl += hookPath;
    },
    async deploy(env) {
      await shared.admin.create({
        apiVersion: KUSTOMIZE_API, kind: "Kustomization", metadata: { name: env.name, namespace },
        spec: {
          interval: env.interval, path: `./${env.path}`, prune: true, wait: true, timeout: "5m", targetNamespace: env.namespace,
          sourceRef: { kind: "GitRepository", name: env.trigger === "webhook" ? "config-hook" : "config" },
        },
      });
    },
    async readyRevision(name) {
      const obj = await shared.admin.get(KUSTOMIZE_API, "Kustomization", namespace, name);
      const ready = readyCondition(obj);
      if (ready?.status !== "True" || ready.observedGeneration !== obj?.metadata.generation) return undefined;
      // "main@sha1:<sha>"
      return (obj?.status as { lastAppliedRevision?: string }).lastAppliedRevision?.split(":").pop();
    },
    async suspend(name) {
      await shared.admin.apply({ apiVersion: KUSTOMIZE_API, kind: "Kustomization", metadata: { name, namespace }, spec: { suspend: true } }, { fieldManager: "bench", force: true });
    },
    async notifyPush(sha) {
      await post(receiverUrl, githubPush(WEBHOOK_SECRET, shared.repoUrl, sha));
    },
    peakRssMiB: () => peakRss(processes),
    async stop() {
      for (const p of processes) await stopProcess(p);
      await proxy.stop();
    },
  };
}

export type { Shared as ContenderContext };
