/**
 * Everything an agent integration test needs: its own namespace on the shared control plane, a git
 * server with a config repo, the Environment CRD, and an in-process agent scoped to that namespace.
 */
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parse } from "yaml";
import type { ClusterCredentials } from "../../src/kube/credentials.js";
import { startAgent, type AgentHooks, type RunningAgent } from "../../src/agent/agent.js";
import { parseAgentConfig, type AgentConfig } from "../../src/agent/config.js";
import { ENV_API_VERSION, ENV_KIND, type EnvironmentObject } from "../../src/agent/environment.js";
import type { KubeObject } from "../../src/config/objects.js";
import { KubeClient } from "../../src/kube/client.js";
import { ConfigRepo } from "./config-repo.js";
import { GitServer } from "./git-server.js";
import { waitFor } from "./processes.js";
import { testKubeConfig, testLogger } from "./testenv.js";

const repoRoot = path.resolve(import.meta.dirname, "../..");

export async function installCrd(client: KubeClient): Promise<void> {
  const crd = parse(await fs.readFile(path.join(repoRoot, "charts/baton/crds/environments.baton.dev.yaml"), "utf8")) as KubeObject;
  await client.apply(crd, { fieldManager: "baton-tests", force: true });
  await waitFor("Environment CRD established", async () => {
    const live = await client.get("apiextensions.k8s.io/v1", "CustomResourceDefinition", undefined, "environments.baton.dev");
    const conditions = (live?.status as { conditions?: Array<{ type: string; status: string }> } | undefined)?.conditions ?? [];
    return conditions.some((c) => c.type === "Established" && c.status === "True") ? true : undefined;
  }, 30_000);
  await client.discover(true);
}

export interface AgentFixture {
  client: KubeClient;
  namespace: string;
  server: GitServer;
  repo: ConfigRepo;
  agent?: RunningAgent;
  /** `kubeConfig`: e.g. one that goes through an ApiProxy; `hooks`: a skewed clock, leadership observer. */
  startAgent(overrides?: Partial<AgentConfig>, options?: { kubeConfig?: ClusterCredentials; hooks?: AgentHooks }): Promise<RunningAgent>;
  createEnvironment(name: string, spec: Record<string, unknown>): Promise<void>;
  environment(name: string): Promise<EnvironmentObject | undefined>;
  waitForEnvironment(name: string, what: string, predicate: (env: EnvironmentObject) => boolean, timeoutMs?: number): Promise<EnvironmentObject>;
  deploymentImage(name: string): Promise<string | undefined>;
  cleanup(): Promise<void>;
}

/** `kubeConfig`: another cluster than the shared one (the fault suite's private control plane). */
export async function agentFixture(prefix: string, files: Record<string, string>, options: { auth?: { username: string; password: string }; kubeConfig?: ClusterCredentials } = {}): Promise<AgentFixture> {
  const kubeConfig = () => options.kubeConfig ?? testKubeConfig();
  const client = new KubeClient(kubeConfig());
  await installCrd(client);
  const namespace = `${prefix}-${Date.now().toString(36)}`;
  await client.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: namespace } });
  const server = await GitServer.create(options.auth ? { auth: options.auth } : {});
  const repo = await ConfigRepo.create(server, "config", files);
  const cacheDir = await fs.mkdtemp(path.join(os.tmpdir(), "baton-agent-cache-"));
  const agents: RunningAgent[] = [];
  const fixture: AgentFixture = {
    client, namespace, server, repo,
    async startAgent(overrides = {}, agentOptions = {}) {
      // Each agent has its own cache, as each pod has its own emptyDir.
      const config = parseAgentConfig({ namespace, port: 0, bindAddress: "127.0.0.1", cacheDir: path.join(cacheDir, String(agents.length)), leaderElect: false, resyncMs: 300, logLevel: process.env.BATON_TEST_LOG ?? "silent", leaseNamespace: namespace, allowInsecureHttp: true /* the test git server is http on loopback */, ...overrides });
      const agent = await startAgent(config, testLogger(`${namespace}-${agents.length}`), agentOptions.kubeConfig ?? kubeConfig(), agentOptions.hooks);
      agents.push(agent);
      fixture.agent ??= agent;
      return agent;
    },
    async createEnvironment(name, spec) {
      await client.create({ apiVersion: ENV_API_VERSION, kind: ENV_KIND, metadata: { name, namespace }, spec: { url: repo.url, branch: "main", interval: "1h", timeout: "60s", targetNamespace: namespace, ...spec } });
    },
    async environment(name) {
      return (await client.get(ENV_API_VERSION, ENV_KIND, namespace, name)) as EnvironmentObject | undefined;
    },
    async waitForEnvironment(name, what, predicate, timeoutMs = 60_000) {
      return waitFor(`${name}: ${what}`, async () => {
        const env = await fixture.environment(name);
        return env && predicate(env) ? env : undefined;
      }, timeoutMs, 200);
    },
    async deploymentImage(name) {
      const d = await client.get("apps/v1", "Deployment", namespace, name);
      const spec = d?.spec as { template?: { spec?: { containers?: Array<{ image?: string }> } } } | undefined;
      return spec?.template?.spec?.containers?.[0]?.image;
    },
    async cleanup() {
      for (const a of agents) await a.stop();
      await server.destroy();
      await repo.destroy();
      await fs.rm(cacheDir, { recursive: true, force: true });
      await client.delete({ group: "", version: "v1", kind: "Namespace", name: namespace }).catch(() => undefined);
      client.close();
    },
  };
  return fixture;
}

export const isReady = (env: EnvironmentObject, revision?: string): boolean =>
  env.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") === true && (revision === undefined || env.status?.lastAppliedRevision === revision);

export const readyCondition = (env: EnvironmentObject) => env.status?.conditions?.find((c) => c.type === "Ready");
