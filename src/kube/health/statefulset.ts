import { current, inProgress, num, staleGeneration, type Health, type LiveObject } from "./types.js";

/**
 * Current when all replicas are ready and updated. With a partitioned rolling update only the pods with
 * an ordinal at or above the partition are updated (the rest stay on the old revision on purpose, a
 * canary), so the rollout is done once `replicas - partition` pods are updated (as kstatus judges it).
 */
export function statefulSetHealth(obj: LiveObject): Health {
  const stale = staleGeneration(obj);
  if (stale) return stale;
  const s = obj.status;
  if (s?.observedGeneration === undefined) return inProgress("rollout not started");
  const wanted = typeof obj.spec?.replicas === "number" ? obj.spec.replicas : 1;
  if (num(s.readyReplicas) < wanted) return inProgress(`${num(s.readyReplicas)} of ${wanted} replicas ready`);
  const strategy = obj.spec?.updateStrategy as { type?: string; rollingUpdate?: { partition?: number } } | undefined;
  if (strategy?.type === "OnDelete") return current(`${wanted} of ${wanted} replicas ready`);
  const partition = num(strategy?.rollingUpdate?.partition);
  if (partition > 0) {
    const toUpdate = Math.max(0, wanted - partition);
    if (num(s.updatedReplicas) < toUpdate) return inProgress(`${num(s.updatedReplicas)} of ${toUpdate} replicas above partition ${partition} updated`);
    return current(`partitioned rollout done: ${toUpdate} of ${wanted} replicas updated, ${wanted} ready`);
  }
  if (s.updateRevision && s.currentRevision !== s.updateRevision) return inProgress(`${num(s.updatedReplicas)} of ${wanted} replicas updated`);
  return current(`${wanted} of ${wanted} replicas ready`);
}
