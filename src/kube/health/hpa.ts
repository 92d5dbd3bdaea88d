import { current, failed, inProgress, type Health, type LiveObject } from "./types.js";

/**
 * A HorizontalPodAutoscaler is Failed when it cannot scale or cannot read its metrics (a False
 * condition whose reason starts with "Failed", as Argo CD judges it), InProgress until the controller
 * reported at all, Current otherwise (ScalingLimited is normal operation).
 */
export function hpaHealth(obj: LiveObject): Health {
  const conditions = obj.status?.conditions ?? [];
  if (conditions.length === 0) return inProgress("waiting for the autoscaler to report");
  const broken = conditions.find((c) => c.status === "False" && /^Failed/.test(c.reason ?? ""));
  if (broken) return failed(`${broken.type}: ${broken.reason}${broken.message ? ` (${broken.message})` : ""}`);
  return current("autoscaling");
}
