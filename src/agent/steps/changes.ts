/** What apply and prune changed, counted and named once for logs, metrics, Events and the Ready message. */
import type { ChangeSetEntry } from "../../kube/manager.js";

export interface ChangeSummary {
  created: number;
  configured: number;
  driftCorrected: number;
  /** Created, configured or drift-corrected. */
  applied: number;
  deleted: string[];
  drifted: string[];
  /** Prunes a guard held back, with why. */
  heldBack: string[];
}

export function summarizeChanges(changes: ChangeSetEntry[]): ChangeSummary {
  const named = (action: ChangeSetEntry["action"]) => changes.filter((c) => c.action === action).map((c) => c.object);
  const created = named("created").length, configured = named("configured").length;
  const drifted = named("drift-corrected");
  return {
    created, configured, driftCorrected: drifted.length, applied: created + configured + drifted.length,
    deleted: named("deleted"), drifted, heldBack: changes.filter((c) => c.retain).map((c) => `${c.object}: ${c.message ?? "held back"}`),
  };
}
