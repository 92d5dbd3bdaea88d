/** kstatus-style health: Current (done and healthy), InProgress (still converging), Failed. */
export type HealthStatus = "Current" | "InProgress" | "Failed";

export interface Health {
  status: HealthStatus;
  message: string;
}

export interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  /** metav1.Condition's own generation: a condition older than `metadata.generation` is stale. */
  observedGeneration?: number;
}

export interface LiveObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; generation?: number; deletionTimestamp?: string };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown> & { observedGeneration?: number; conditions?: Condition[] };
}

export const current = (message = "ready"): Health => ({ status: "Current", message });
export const inProgress = (message: string): Health => ({ status: "InProgress", message });
export const failed = (message: string): Health => ({ status: "Failed", message });

export function num(v: unknown): number {
  return typeof v === "number" ? v : 0;
}

export function condition(obj: LiveObject, type: string): Condition | undefined {
  return obj.status?.conditions?.find((c) => c.type === type);
}

/** A condition for a message: its reason (or type) and message, e.g. `UpgradeFailed (timed out)`. */
export const describe = (c: Condition): string => `${c.reason ?? c.type}${c.message ? ` (${c.message})` : ""}`;

/** The controller has not yet seen the latest spec: anything else in status is stale. */
export function staleGeneration(obj: LiveObject): Health | undefined {
  const gen = obj.metadata.generation;
  const observed = obj.status?.observedGeneration;
  if (gen !== undefined && observed !== undefined && observed < gen) return inProgress(`waiting for the controller to observe generation ${gen}`);
  return undefined;
}
