import { current, inProgress, num, staleGeneration, type Health, type LiveObject } from "./types.js";

export function statefulSetHealth(obj: LiveObject): Health {
  const stale = staleGeneration(obj);
  if (stale) return stale;
  const s = obj.status;
  if (s?.observedGeneration === undefined) return inProgress("rollout not started");
  const wanted = typeof obj.spec?.replicas === "number" ? obj.spec.replicas : 1;
  if (num(s.readyReplicas) < wanted) return inProgress(`${num(s.readyReplicas)} of ${wanted} replicas ready`);
  const strategy = obj.spec?.updateStrategy as { type?: string } | undefined;
  if (strategy?.type !== "OnDelete" && s.updateRevision && s.currentRevision !== s.updateRevision) {
    return inProgress(`${num(s.updatedReplicas)} of ${wanted} replicas updated`);
  }
  return current(`${wanted} of ${wanted} replicas ready`);
}
