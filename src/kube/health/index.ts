/** Health of a live object: one small rule per kind, with a generic fallback (see gitops-engine/kstatus). */
import { daemonSetHealth } from "./daemonset.js";
import { deploymentHealth } from "./deployment.js";
import { fluxHealth, isFluxGroup } from "./flux.js";
import { genericHealth } from "./generic.js";
import { hpaHealth } from "./hpa.js";
import { pdbHealth } from "./pdb.js";
import { ingressHealth, serviceHealth } from "./service.js";
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
  "/Service": serviceHealth,
  "networking.k8s.io/Ingress": ingressHealth,
  "policy/PodDisruptionBudget": pdbHealth,
  "autoscaling/HorizontalPodAutoscaler": hpaHealth,
};

/** Whether an object of this kind can be anything but healthy once it exists (and so is worth a read). */
export function hasHealthRule(group: string, kind: string, desired?: Record<string, unknown>): boolean {
  if (group === "" && kind === "Service") return (desired?.spec as { type?: unknown } | undefined)?.type === "LoadBalancer";
  return `${group}/${kind}` in RULES || isFluxGroup(group);
}

export function assessHealth(obj: LiveObject): Health {
  if (obj.metadata.deletionTimestamp) return inProgress("being deleted");
  const group = obj.apiVersion.includes("/") ? obj.apiVersion.slice(0, obj.apiVersion.indexOf("/")) : "";
  return (RULES[`${group}/${obj.kind}`] ?? (isFluxGroup(group) ? fluxHealth : genericHealth))(obj);
}

/** The worst of several: Failed beats InProgress beats Current. */
export function aggregateHealth(results: Health[]): Health["status"] {
  if (results.some((r) => r.status === "Failed")) return "Failed";
  if (results.some((r) => r.status === "InProgress")) return "InProgress";
  return "Current";
}
