import { current, inProgress, num, staleGeneration, type Health, type LiveObject } from "./types.js";

/** A PodDisruptionBudget is Current once enough of its pods are healthy to allow what it promises. */
export function pdbHealth(obj: LiveObject): Health {
  const stale = staleGeneration(obj);
  if (stale) return stale;
  const s = obj.status;
  if (s?.observedGeneration === undefined) return inProgress("waiting for the disruption controller");
  if (num(s.currentHealthy) < num(s.desiredHealthy)) return inProgress(`${num(s.currentHealthy)} of ${num(s.desiredHealthy)} required pods healthy`);
  return current(`${num(s.currentHealthy)} pods healthy, ${num(s.disruptionsAllowed)} disruptions allowed`);
}
