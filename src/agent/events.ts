/** Kubernetes Events on the Environment for every apply, prune, drift, health change and failure. */
import type { KubeClient } from "../kube/client.js";
import type { Logger } from "../log.js";
import { scrubSecrets } from "../util/secrets.js";
import { ENV_API_VERSION, ENV_KIND, type EnvironmentObject } from "./environment.js";

export type EventReason = "Applied" | "Pruned" | "DriftCorrected" | "HealthChanged" | "ReconcileFailed" | "Stalled" | "ReleasePhase" | "PruneSkipped";

export class EventRecorder {
  constructor(private readonly client: KubeClient, private readonly log: Logger) {}

  /** The same recorder writing through `client` (e.g. one bound to the leadership term). */
  withClient(client: KubeClient): EventRecorder {
    return new EventRecorder(client, this.log);
  }

  async record(env: EnvironmentObject, type: "Normal" | "Warning", reason: EventReason, message: string): Promise<void> {
    const now = new Date().toISOString();
    const namespace = env.metadata.namespace ?? "default";
    try {
      await this.client.create({
        apiVersion: "v1",
        kind: "Event",
        metadata: { name: `${env.metadata.name}.${Date.now().toString(16)}${Math.floor(Math.random() * 0xfff).toString(16)}`, namespace },
        involvedObject: { apiVersion: ENV_API_VERSION, kind: ENV_KIND, name: env.metadata.name, namespace, uid: env.metadata.uid },
        reason,
        message: scrubSecrets(message).slice(0, 1024),
        type,
        source: { component: "baton-agent" },
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
      });
    } catch (e) {
      // Events are best effort: failing to record one must never fail a reconcile.
      this.log.warn({ err: e instanceof Error ? e.message : String(e), reason }, "could not record event");
    }
  }
}
