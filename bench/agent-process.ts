/**
 * Baton's agent as the benchmarks run it: a child process of the compiled CLI (`node dist/cli.js agent`,
 * as the container image runs it), talking to the control plane through its own ApiProxy so every
 * request it sends is counted, and measured from outside through /proc (CPU seconds, resident set).
 */
import { execFileSync } from "node:child_process";
import { promises as fs, readFileSync } from "node:fs";
import path from "node:path";
import { ENV_API_VERSION, ENV_KIND } from "../src/agent/environment.js";
import type { KubeClient } from "../src/kube/client.js";
import { ApiProxy } from "../test/support/api-proxy.js";
import { freePort, startProcess, stopProcess, waitFor, type Managed } from "../test/support/processes.js";

export const repoRoot = path.resolve(import.meta.dirname, "..");

/** The NODE_OPTIONS the image sets (Dockerfile `ENV … NODE_OPTIONS=…`): the agent's V8 heap sizing. */
export function imageNodeOptions(): string {
  const dockerfile = readFileSync(path.join(repoRoot, "Dockerfile"), "utf8");
  return /^ENV .*\bNODE_OPTIONS=(\S+)/m.exec(dockerfile)?.[1] ?? "";
}

/** `npm run build` once per benchmark run: the agent runs from dist/, as in its image. */
export function buildDist(): void {
  execFileSync("npm", ["run", "--silent", "build"], { cwd: repoRoot, stdio: "inherit" });
}

export interface ProcessStats {
  /** Resident set now (VmRSS) and at its peak so far (VmHWM), MiB. */
  rssMiB: number;
  peakRssMiB: number;
  /** User + system CPU seconds so far. */
  cpuS: number;
}

let hz: number | undefined;
const clockTicks = () => (hz ??= Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100);

/** Read from /proc/<pid>: the process's own figures, not the benchmark's. */
export function processStats(pid: number): ProcessStats {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+)`, "m").exec(status)?.[1] ?? 0);
  // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11] ?? 0) + Number(fields[12] ?? 0);
  return { rssMiB: kib("VmRSS") / 1024, peakRssMiB: kib("VmHWM") / 1024, cpuS: ticks / clockTicks() };
}

export interface AgentProcess {
  readonly proxy: ApiProxy;
  readonly process: Managed;
  /** Its webhook/health port on 127.0.0.1. */
  readonly port: number;
  stats(): ProcessStats;
  stop(): Promise<void>;
}

export interface AgentProcessOptions {
  /** Where its kubeconfig, cache and log go. */
  workDir: string;
  name: string;
  namespace: string;
  extraArgs?: string[];
  /** Flags of node itself, e.g. --cpu-prof (which NODE_OPTIONS does not allow). */
  nodeArgs?: string[];
  env?: NodeJS.ProcessEnv;
}

/** Starts one agent (no leader election) behind a fresh ApiProxy and waits for its /readyz. */
export async function startAgentProcess(options: AgentProcessOptions): Promise<AgentProcess> {
  const proxy = await ApiProxy.start();
  const kubeconfig = path.join(options.workDir, `${options.name}.kubeconfig`);
  await fs.writeFile(kubeconfig, await proxy.kubeconfigText(), { mode: 0o600 });
  const port = await freePort();
  const metricsPort = await freePort();
  const child = startProcess(options.name, process.execPath, [
    ...(options.nodeArgs ?? []), path.join(repoRoot, "dist/cli.js"), "agent", "--kubeconfig", kubeconfig, "--namespace", options.namespace, "--no-leader-elect",
    "--port", String(port), "--metrics-port", String(metricsPort), "--bind-address", "127.0.0.1",
    "--cache-dir", path.join(options.workDir, `${options.name}-cache`), "--allow-insecure-http", "--log-level", "warn",
    ...(options.extraArgs ?? []),
  ], path.join(options.workDir, `${options.name}.log`), { ...process.env, ...options.env, NODE_OPTIONS: [imageNodeOptions(), options.env?.NODE_OPTIONS].filter(Boolean).join(" ") });
  await waitFor(`${options.name} /readyz`, async () => ((await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.ok ? true : undefined), 60_000, 100);
  return {
    proxy, process: child, port,
    stats: () => processStats(child.pid),
    async stop() {
      await stopProcess(child);
      await proxy.stop();
    },
  };
}

/**
 * After the CRD is installed, the API server answers Environment lists with "storage is (re)initializing"
 * for a few seconds; an agent started then retries with a backoff, which would count against the first run.
 */
export async function environmentsServed(admin: KubeClient): Promise<void> {
  await waitFor("Environments served", async () => ((await admin.list(ENV_API_VERSION, ENV_KIND, "default")) ? true : undefined), 60_000, 200);
}
