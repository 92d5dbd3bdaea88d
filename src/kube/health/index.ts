/** Health of a live object: one small rule per kind, with a generic fallback (see gitops-engine/kstatus). */
import { daemonSetHealth } from "./daemonset.js";
import { deploymentHealth } from "./deployment.js";
import { genericHealth } from "./generic.js";
import { jobHealth } from "./job.js";
import { pvcHealth } from "./pvc.js";
import { statefulSetHealth } from "./statefulset.js";
import { inProgress, type Health, type LiveObject } from "./types.js";

export type { Health, HealthStatus, LiveObject } from "./types.js";

const RULES: Record<string, (obj: LiveObject) => Health> = {
  "apps/Deployment": deploymentHealth,
  "apps/StatefulSet": statefulSetHealth,
  "apps/DaemonSet": daemonSetHealth,
  "batch/Job": jobHealth,
  "/PersistentVolumeClaim": pvcHealth,
};

export function assessHealth(obj: LiveObject): Health {
  if (obj.metadata.deletionTimestamp) return inProgress("being deleted");
  const group = obj.apiVersion.includes("/") ? obj.apiVersion.slice(0, obj.apiVersion.indexOf("/")) : "";
  return (RULES[`${group}/${obj.kind}`] ?? genericHealth)(obj);
}

/** The worst of several: Failed beats InProgress beats Current. */
export function aggregateHealth(results: Health[]): Health["status"] {
  if (results.some((r) => r.status === "Failed")) return "Failed";
  if (results.some((r) => r.status === "InProgress")) return "InProgress";
  return "Current";
}
