import { current, inProgress, num, staleGeneration, type Health, type LiveObject } from "./types.js";

export function daemonSetHealth(obj: LiveObject): Health {
  const stale = staleGeneration(obj);
  if (stale) return stale;
  const s = obj.status;
  if (s?.observedGeneration === undefined) return inProgress("rollout not started");
  const wanted = num(s.desiredNumberScheduled);
  if (num(s.updatedNumberScheduled) < wanted) return inProgress(`${num(s.updatedNumberScheduled)} of ${wanted} pods updated`);
  if (num(s.numberAvailable) < wanted) return inProgress(`${num(s.numberAvailable)} of ${wanted} pods available`);
  return current(`${wanted} of ${wanted} pods available`);
}
