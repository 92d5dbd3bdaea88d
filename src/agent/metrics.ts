/** A minimal Prometheus registry: counters and gauges with labels, rendered in the text exposition format. */
type Labels = Record<string, string>;

function key(labels: Labels): string {
  return Object.keys(labels).sort().map((k) => `${k}="${String(labels[k]).replace(/["\\\n]/g, "_")}"`).join(",");
}

class Family {
  readonly values = new Map<string, number>();
  constructor(readonly name: string, readonly help: string, readonly type: "counter" | "gauge") {}
  inc(labels: Labels = {}, by = 1): void {
    const k = key(labels);
    this.values.set(k, (this.values.get(k) ?? 0) + by);
  }
  set(labels: Labels, value: number): void {
    this.values.set(key(labels), value);
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} ${this.type}`];
    for (const [k, v] of this.values) lines.push(`${this.name}${k ? `{${k}}` : ""} ${v}`);
    return lines.join("\n");
  }
}

export class Metrics {
  readonly reconcileTotal = new Family("baton_reconcile_total", "Reconciles by environment and result.", "counter");
  readonly reconcileSeconds = new Family("baton_reconcile_duration_seconds_sum", "Total seconds spent reconciling, by environment.", "counter");
  readonly reconcileCount = new Family("baton_reconcile_duration_seconds_count", "Number of timed reconciles, by environment.", "counter");
  readonly objectsApplied = new Family("baton_objects_applied_total", "Objects created or changed by server-side apply.", "counter");
  readonly objectsPruned = new Family("baton_objects_pruned_total", "Objects deleted because git no longer holds them.", "counter");
  readonly driftCorrected = new Family("baton_drift_corrected_total", "Objects changed by hand and reverted to git.", "counter");
  readonly errors = new Family("baton_reconcile_errors_total", "Failed reconciles by environment and error code.", "counter");
  readonly lastApplied = new Family("baton_last_applied_revision_timestamp_seconds", "Unix time of the last successful apply.", "gauge");
  readonly ready = new Family("baton_environment_ready", "1 when the environment is Ready.", "gauge");

  render(): string {
    return [this.reconcileTotal, this.reconcileSeconds, this.reconcileCount, this.objectsApplied, this.objectsPruned, this.driftCorrected, this.errors, this.lastApplied, this.ready]
      .map((f) => f.render()).join("\n") + "\n";
  }
}
