import { condition, current, failed, inProgress, num, staleGeneration, type Health, type LiveObject } from "./types.js";

/** A Deployment is Current when its rollout finished and all wanted replicas are updated and available. */
export function deploymentHealth(obj: LiveObject): Health {
  const stale = staleGeneration(obj);
  if (stale) return stale;
  if (obj.status?.observedGeneration === undefined) return inProgress("rollout not started");
  const progressing = condition(obj, "Progressing");
  if (progressing?.status === "False" && progressing.reason === "ProgressDeadlineExceeded") return failed(`rollout stalled: ${progressing.message ?? "progress deadline exceeded"}`);
  const wanted = typeof obj.spec?.replicas === "number" ? obj.spec.replicas : 1;
  const s = obj.status;
  if (num(s.updatedReplicas) < wanted) return inProgress(`${num(s.updatedReplicas)} of ${wanted} replicas updated`);
  if (num(s.replicas) > num(s.updatedReplicas)) return inProgress(`${num(s.replicas) - num(s.updatedReplicas)} old replicas pending termination`);
  if (num(s.availableReplicas) < wanted) return inProgress(`${num(s.availableReplicas)} of ${wanted} replicas available`);
  return current(`${wanted} of ${wanted} replicas available`);
}
