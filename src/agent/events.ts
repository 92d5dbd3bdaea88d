/**
 * Kubernetes Events on the Environment for every apply, prune, drift, health change and failure. They are
 * written off the reconcile's critical path: record() queues the Event and returns at once, so neither the
 * health wait nor the status write (the "applied" answer) waits for an Event's round trip. Each
 * Environment's Events are written one at a time in the order they were recorded (an Applied Event never
 * lands after the HealthChanged that followed it), with the time they were recorded as their timestamp.
 * Events are best effort, as before: a failed write is logged and never fails a reconcile; a write cancelled
 * with the leadership term is dropped with the term's other writes.
 */
import type { KubeClient } from "../kube/client.js";
import type { Logger } from "../log.js";
import { KeyedSerialQueue } from "../util/serial.js";
import { scrubSecrets } from "../util/secrets.js";
import { ENV_API_VERSION, ENV_KIND, type EnvironmentObject } from "./environment.js";

export type EventReason = "Applied" | "Pruned" | "DriftCorrected" | "HealthChanged" | "ReconcileFailed" | "Stalled" | "ReleasePhase" | "PruneSkipped";

/** Events of one Environment waiting to be written, at most (a hung API drops the newest beyond it). */
const MAX_PENDING_EVENTS = 50;

export class EventRecorder {
  constructor(private readonly client: KubeClient, private readonly log: Logger, private readonly queue = new KeyedSerialQueue(MAX_PENDING_EVENTS)) {}

  /** The same recorder (and the same per-Environment order) writing through `client` (e.g. one bound to the leadership term). */
  withClient(client: KubeClient): EventRecorder {
    return new EventRecorder(client, this.log, this.queue);
  }

  /** Queues the Event; the promise settles once it is written or given up (callers need not wait for it). */
  record(env: EnvironmentObject, type: "Normal" | "Warning", reason: EventReason, message: string): Promise<void> {
    const now = new Date();
    const namespace = env.metadata.namespace ?? "default";
    const event = {
      apiVersion: "v1",
      kind: "Event",
      metadata: { name: `${env.metadata.name}.${now.getTime().toString(16)}${Math.floor(Math.random() * 0xfff).toString(16)}`, namespace },
      involvedObject: { apiVersion: ENV_API_VERSION, kind: ENV_KIND, name: env.metadata.name, namespace, uid: env.metadata.uid },
      reason,
      message: scrubSecrets(message).slice(0, 1024),
      type,
      source: { component: "baton-agent" },
      firstTimestamp: now.toISOString(),
      lastTimestamp: now.toISOString(),
      count: 1,
    };
    const written = this.queue.add(`${namespace}/${env.metadata.name}`, async () => {
      try {
        await this.client.create(event);
      } catch (e) {
        // Events are best effort: failing to record one must never fail a reconcile.
        this.log.warn({ err: e instanceof Error ? e.message : String(e), reason }, "could not record event");
      }
    });
    if (!written) this.log.warn({ reason, env: `${namespace}/${env.metadata.name}` }, `more than ${MAX_PENDING_EVENTS} Events of this Environment wait to be written; this one is dropped`);
    return written ?? Promise.resolve();
  }
}
