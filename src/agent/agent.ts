/**
 * `baton agent`: wires the Kubernetes client, the controller, leader election and the HTTP server,
 * and shuts them down cleanly on SIGTERM.
 */
import path from "node:path";
import type { ClusterCredentials, KubeConfigLike } from "../kube/credentials.js";
import { loadKubeConfig } from "../kube/kubeconfig.js";
import type { Logger } from "../log.js";
import { AccessReviews } from "../kube/access.js";
import { KubeClient } from "../kube/client.js";
import { GitSources } from "../git/sources.js";
import { registerSecret } from "../util/secrets.js";
import type { AgentConfig } from "./config.js";
import { Controller } from "./controller.js";
import { EventRecorder } from "./events.js";
import { defaultTimings, LeaderElector, systemClock, type Clock } from "./leader.js";
import { Metrics } from "./metrics.js";
import { readiness } from "./readiness.js";
import { createAgentServer, createMetricsServer } from "./server.js";
import { startPromoter } from "./promoter.js";
import { RegistryClient } from "../registry/client.js";
import { dockerConfigCredentials } from "../registry/auth.js";
import { useChartSource } from "../config/chart-source.js";
import { shardLeaseName } from "./shard.js";

export interface RunningAgent {
  controller: Controller;
  client: KubeClient;
  metrics: Metrics;
  port: number;
  metricsPort: number;
  isLeader(): boolean;
  stop(): Promise<void>;
}

export interface AgentHooks {
  /** The agent's clock (tests skew it to prove that leader election never compares two nodes' clocks). */
  clock?: Clock;
  /** Observes leadership changes (tests record their order across replicas). */
  onLeadership?: (leading: boolean) => void;
  /** The agent's allowed access reviews (tests give them a TTL longer than the test, so reuse does not depend on its speed). */
  accessReviews?: AccessReviews;
}

export async function startAgent(config: AgentConfig, log: Logger, kc: ClusterCredentials | KubeConfigLike = loadKubeConfig(config.kubeconfig, config.context), hooks: AgentHooks = {}): Promise<RunningAgent> {
  registerSecret(config.webhookSecret);
  // Timings are checked before anything connects: a bad flag is a startup error, not a split brain.
  const timings = config.leaderElect ? defaultTimings(config.leaseDurationSeconds, config.renewDeadline, config.retryPeriod) : undefined;
  const shard = { index: config.shard, count: config.shards };
  const client = new KubeClient(kc, { maxSockets: config.concurrency * 2, userAgent: `baton-agent/${config.identity}` });
  await client.discover();
  const metrics = new Metrics();
  // Registry credentials are read (and checked) at start, so a broken file fails the agent, not every reconcile.
  const registry = new RegistryClient(config.registryConfig ? { credentials: await dockerConfigCredentials(config.registryConfig, false) } : {});
  // oci:// charts are fetched with the same registry credentials and cached by digest beside the git checkouts.
  useChartSource({ cacheDir: path.join(config.cacheDir, "charts"), registry });
  // Environments of one repository, branch and credentials share fetches; a new revision seen by one
  // reconciles the others at once (`controller` exists by the time a fetch can report one).
  const sources: GitSources = new GitSources(config.cacheDir, {
    concurrency: config.gitConcurrency,
    onOperation: (operation) => metrics.gitOperations.inc({ operation }),
    onNewRevision: (source, revision) => controller.followRevision(source, revision),
  });
  const controller: Controller = new Controller(
    { client, log, events: new EventRecorder(client, log), metrics, registry, sources, accessReviews: hooks.accessReviews ?? new AccessReviews(), concurrency: config.concurrency, allowInsecureHttp: config.allowInsecureHttp, git: { timeoutMs: config.gitTimeout, maxBytes: config.gitMaxBytes },
      tenancy: { noCrossNamespaceObjects: config.noCrossNamespaceObjects, ...(config.defaultServiceAccount ? { defaultServiceAccount: config.defaultServiceAccount } : {}) } },
    { ...(config.namespace ? { namespaces: config.namespace.split(",").map((n) => n.trim()).filter(Boolean) } : {}), resyncMs: config.resyncMs, shard, maxConcurrentReconciles: config.maxConcurrentReconciles },
    log,
  );
  const leader = timings
    ? new LeaderElector(client, { namespace: config.leaseNamespace, name: shardLeaseName(config.leaseName, shard), identity: config.identity, timings, clock: hooks.clock ?? systemClock }, log, {
      // The controller's writes are bound to the term's signal: when it aborts, they are cancelled.
      onStartedLeading: (signal) => {
        metrics.leader.set(1);
        hooks.onLeadership?.(true);
        controller.start(signal);
      },
      onStoppedLeading: () => {
        metrics.leader.set(0);
        hooks.onLeadership?.(false);
        void controller.stop();
      },
    })
    : undefined;
  const server = createAgentServer({
    metrics, log, ...(config.webhookSecret ? { webhookSecret: config.webhookSecret } : {}),
    ready: () => readiness({
      now: performance.now(), standby: leader !== undefined && !leader.isLeader(), lastLeaseContact: leader?.lastContactAt() ?? 0,
      lastResync: controller.lastResyncAt(), resyncMs: config.resyncMs, leaseDurationMs: timings?.leaseDurationMs ?? 0,
    }),
    onPush: (event) => controller.handlePush(event),
  });
  const metricsServer = createMetricsServer(metrics);
  const listen = async (s: ReturnType<typeof createMetricsServer>, wanted: number) => {
    await new Promise<void>((resolve, reject) => {
      s.once("error", reject);
      s.listen(wanted, config.bindAddress, () => {
        s.off("error", reject);
        resolve();
      });
    });
    const address = s.address();
    return typeof address === "object" && address ? address.port : wanted;
  };
  const port = await listen(server, config.port);
  const metricsPort = await listen(metricsServer, config.metricsPort ?? (config.port === 0 ? 0 : config.port + 1));
  if (leader) leader.start();
  else controller.start();
  const promoter = config.promoterRepo ? startPromoter(config.promoterRepo, config.promoterSchedule, () => (leader ? leader.isLeader() : true), log, client, config.namespace, registry) : undefined;
  log.info({ port, metricsPort, namespace: config.namespace ?? "(all)", leaderElect: config.leaderElect, ...(shard.count > 1 ? { shard: `${shard.index}/${shard.count}` } : {}) }, "baton agent started");
  let stopped = false;
  return {
    controller, client, metrics, port, metricsPort,
    isLeader: () => (leader ? leader.isLeader() : true),
    async stop() {
      if (stopped) return;
      stopped = true;
      await promoter?.stop();
      server.close();
      server.closeAllConnections();
      metricsServer.close();
      metricsServer.closeAllConnections();
      await controller.stop();
      await leader?.stop();
      client.close();
      log.info("baton agent stopped");
    },
  };
}
