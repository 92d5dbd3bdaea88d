/**
 * The shared test environment of one `npm test` run: builds or reuses the binaries, starts one control
 * plane with one fake kwok Node, and hands its coordinates to the test processes through env vars.
 */
import { createWriteStream, mkdirSync, promises as fs } from "node:fs";
import { createLogger, type Logger } from "../../src/log.js";
import path from "node:path";
import { KubeClient } from "../../src/kube/client.js";
import type { ClusterCredentials } from "../../src/kube/credentials.js";
import { findKubeConfig, loadKubeConfig, type ResolvedKubeConfig } from "../../src/kube/kubeconfig.js";
import { artifactPath } from "./artifacts.js";
import { ensureBinaries, startCluster, type Cluster } from "./cluster.js";
import { isAlive, waitFor } from "./processes.js";

export interface TestEnvironment {
  cluster: Cluster;
  env: Record<string, string>;
  stop(): Promise<void>;
}

export async function createFakeNode(credentials: ClusterCredentials, name = "kwok-node-0"): Promise<void> {
  const client = new KubeClient(credentials);
  await client.request("POST", "/api/v1/nodes", {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name,
      annotations: { "kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0" },
      labels: { type: "kwok", "kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64" },
    },
    status: {
      allocatable: { cpu: "64", memory: "256Gi", pods: "500" },
      capacity: { cpu: "64", memory: "256Gi", pods: "500" },
    },
  });
  try {
    await waitFor(`node ${name} Ready`, async () => {
      const node = await client.request<{ status?: { conditions?: { type: string; status: string }[] } }>("GET", `/api/v1/nodes/${name}`);
      return node.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ? true : undefined;
    }, 60_000, 250);
  } finally {
    client.close();
  }
}

export async function startTestEnvironment(): Promise<TestEnvironment> {
  const started = Date.now();
  await fs.rm(artifactPath("cluster-logs"), { recursive: true, force: true });
  const bin = ensureBinaries();
  const cluster = await startCluster(bin);
  await createFakeNode(loadKubeConfig(cluster.kubeconfig));
  process.stderr.write(`[testenv] control plane ready at ${cluster.server} in ${((Date.now() - started) / 1000).toFixed(1)}s\n`);
  const env = {
    BATON_TEST_KUBECONFIG: cluster.kubeconfig,
    BATON_TEST_BIN: bin,
    BATON_TEST_CLUSTER_DIR: cluster.dir,
    PATH: `${bin}${path.delimiter}${process.env.PATH ?? ""}`,
  };
  return {
    cluster,
    env,
    async stop() {
      const pids = cluster.processes.map((p) => p.pid);
      // Keep the logs of the last run for debugging: copy them among the artifacts before the cluster dir goes.
      const logs = artifactPath("cluster-logs");
      await fs.mkdir(logs, { recursive: true });
      for (const p of cluster.processes) await fs.copyFile(p.logFile, path.join(logs, path.basename(p.logFile))).catch(() => undefined);
      await cluster.stop();
      const left = pids.filter(isAlive);
      if (left.length > 0) throw new Error(`teardown left processes behind: ${left.join(", ")}`);
      process.stderr.write(`[testenv] stopped ${pids.length} processes, none left behind (logs: ${logs})\n`);
    },
  };
}

/**
 * The agent's logs in integration tests: written to <artifacts>/cluster-logs/agent-<name>.log (kept with the
 * cluster logs of the last run) so a failure can be read afterwards without flooding output.
 */
export function testLogger(name: string): Logger {
  const dir = artifactPath("cluster-logs");
  mkdirSync(dir, { recursive: true });
  return createLogger("debug", createWriteStream(path.join(dir, `agent-${name}.log`)));
}

export function testKubeConfigFile(): string {
  const file = process.env.BATON_TEST_KUBECONFIG;
  if (!file) throw new Error("BATON_TEST_KUBECONFIG is not set: run integration tests through `npm test` (test/run.ts)");
  return file;
}

/**
 * Inside an integration test: the credentials of the shared control plane, read by Baton's own loader
 * (not @kubernetes/client-node, which costs about a second of CPU to load in every test process).
 */
export function testKubeConfig(): ClusterCredentials {
  return loadKubeConfig(testKubeConfigFile());
}

/** The shared control plane's kubeconfig as resolved: its server, CA file and admin token. */
export function testCluster(): ResolvedKubeConfig {
  return findKubeConfig(testKubeConfigFile());
}
