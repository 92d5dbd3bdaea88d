/**
 * The agent's Prometheus metrics, on prom-client with a registry of its own (so two agents in one test
 * process keep separate counts). Names are stable: dashboards and alerts depend on them.
 */
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { QueueStats } from "./work-queue.js";

export class Metrics {
  readonly registry = new Registry();
  readonly reconcileTotal = new Counter({ name: "baton_reconcile_total", help: "Reconciles by environment and result.", labelNames: ["environment", "result"] as const, registers: [this.registry] });
  readonly reconcileDuration = new Histogram({
    name: "baton_reconcile_duration_seconds", help: "Time one reconcile took, from fetch to status.", labelNames: ["environment"] as const,
    buckets: [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300], registers: [this.registry],
  });
  readonly objectsApplied = new Counter({ name: "baton_objects_applied_total", help: "Objects created or changed by server-side apply.", labelNames: ["environment"] as const, registers: [this.registry] });
  readonly objectsPruned = new Counter({ name: "baton_objects_pruned_total", help: "Objects deleted because git no longer holds them.", labelNames: ["environment"] as const, registers: [this.registry] });
  readonly driftCorrected = new Counter({ name: "baton_drift_corrected_total", help: "Objects changed by hand and reverted to git.", labelNames: ["environment"] as const, registers: [this.registry] });
  readonly errors = new Counter({ name: "baton_reconcile_errors_total", help: "Failed reconciles by environment and error code.", labelNames: ["environment", "code"] as const, registers: [this.registry] });
  readonly lastApplied = new Gauge({ name: "baton_last_applied_revision_timestamp_seconds", help: "Unix time of the last successful apply.", labelNames: ["environment"] as const, registers: [this.registry] });
  readonly ready = new Gauge({ name: "baton_environment_ready", help: "1 when the environment is Ready.", labelNames: ["environment"] as const, registers: [this.registry] });
  readonly gitOperations = new Counter({ name: "baton_git_operations_total", help: "Git network operations (ls-remote, fetch), shared by the Environments of one repository, branch and credentials.", labelNames: ["operation"] as const, registers: [this.registry] });
  readonly leader = new Gauge({ name: "baton_leader", help: "1 while this replica holds the leader lease.", registers: [this.registry] });
  /** What the reconcile work queue holds, read when scraped (see watchQueue). */
  private queue: () => QueueStats = () => ({ waiting: 0, inFlight: 0, busy: 0 });
  readonly queueDepth: Gauge = new Gauge({
    name: "baton_reconcile_queue_depth", help: "Environments waiting for a reconcile worker (--max-concurrent-reconciles): a backlog that stays high means too few workers.", registers: [this.registry],
    collect: () => {
      this.queueDepth.set(this.queue().waiting);
    },
  });
  readonly queueInFlight: Gauge<"state"> = new Gauge({
    name: "baton_reconcile_queue_in_flight", help: "Reconciles in progress, by whether they hold a worker (working) or gave it back while they wait for health (waiting_health).", labelNames: ["state"] as const, registers: [this.registry],
    collect: () => {
      const { inFlight, busy } = this.queue();
      this.queueInFlight.set({ state: "working" }, busy);
      this.queueInFlight.set({ state: "waiting_health" }, inFlight - busy);
    },
  });
  readonly queueWait = new Histogram({
    name: "baton_reconcile_queue_wait_seconds", help: "Time from a reconcile being queued until a worker started it.",
    buckets: [0.01, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300], registers: [this.registry],
  });

  /** Reads the queue's figures at every scrape (the controller's queue is new in each leadership term). */
  watchQueue(stats: () => QueueStats): void {
    this.queue = stats;
  }

  /** The text exposition format. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
