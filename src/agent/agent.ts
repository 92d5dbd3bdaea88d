/**
 * `baton agent`: wires the Kubernetes client, the controller, leader election and the HTTP server,
 * and shuts them down cleanly on SIGTERM.
 */
import { KubeConfig } from "@kubernetes/client-node";
import type { Logger } from "../log.js";
import { KubeClient } from "../kube/client.js";
import { registerSecret } from "../util/secrets.js";
import type { AgentConfig } from "./config.js";
import { Controller } from "./controller.js";
import { EventRecorder } from "./events.js";
import { LeaderElector } from "./leader.js";
import { Metrics } from "./metrics.js";
import { createAgentServer } from "./server.js";
import { startPromoter } from "./promoter.js";

export interface RunningAgent {
  controller: Controller;
  client: KubeClient;
  metrics: Metrics;
  port: number;
  isLeader(): boolean;
  stop(): Promise<void>;
}

export function loadKubeConfig(file?: string): KubeConfig {
  const kc = new KubeConfig();
  if (file) kc.loadFromFile(file);
  else kc.loadFromDefault(); // KUBECONFIG, ~/.kube/config, or the in-cluster service account
  return kc;
}

export async function startAgent(config: AgentConfig, log: Logger, kc: KubeConfig = loadKubeConfig(config.kubeconfig)): Promise<RunningAgent> {
  registerSecret(config.webhookSecret);
  const client = new KubeClient(kc, { maxSockets: config.concurrency * 2 });
  await client.discover();
  const metrics = new Metrics();
  const controller = new Controller(
    { client, log, events: new EventRecorder(client, log), metrics, cacheDir: config.cacheDir, concurrency: config.concurrency, allowInsecureHttp: config.allowInsecureHttp },
    { ...(config.namespace ? { namespaces: config.namespace.split(",").map((n) => n.trim()).filter(Boolean) } : {}), resyncMs: config.resyncMs },
    log,
  );
  const leader = config.leaderElect
    ? new LeaderElector(client, { namespace: config.leaseNamespace, name: config.leaseName, identity: config.identity, leaseDurationSeconds: config.leaseDurationSeconds, renewMs: Math.max(500, (config.leaseDurationSeconds * 1000) / 5) }, log, (leading) => {
      if (leading) controller.start();
      else void controller.stop();
    })
    : undefined;
  const server = createAgentServer({
    metrics, log, ...(config.webhookSecret ? { webhookSecret: config.webhookSecret } : {}),
    ready: () => true,
    onPush: (event) => controller.handlePush(event),
  });
  await new Promise<void>((resolve) => server.listen(config.port, config.bindAddress, resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : config.port;
  if (leader) leader.start();
  else controller.start();
  const promoter = config.promoterRepo ? startPromoter(config.promoterRepo, config.promoterSchedule, () => (leader ? leader.isLeader() : true), log, client, config.namespace) : undefined;
  log.info({ port, namespace: config.namespace ?? "(all)", leaderElect: config.leaderElect }, "baton agent started");
  return {
    controller, client, metrics, port,
    isLeader: () => (leader ? leader.isLeader() : true),
    async stop() {
      await promoter?.stop();
      server.close();
      server.closeAllConnections();
      await controller.stop();
      await leader?.stop();
      client.close();
      log.info("baton agent stopped");
    },
  };
}
