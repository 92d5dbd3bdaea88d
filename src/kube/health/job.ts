import { condition, current, failed, inProgress, num, type Health, type LiveObject } from "./types.js";

/** Failed once the Job controller gave up (Failed, or FailureTarget while pods are terminating); Current when Complete. */
export function jobHealth(obj: LiveObject): Health {
  const gaveUp = [condition(obj, "Failed"), condition(obj, "FailureTarget")].find((c) => c?.status === "True");
  if (gaveUp) return failed(`job failed: ${gaveUp.reason ?? ""}${gaveUp.message ? ` (${gaveUp.message})` : ""}`.trim());
  if (condition(obj, "Complete")?.status === "True") return current("job completed");
  if (obj.spec?.suspend === true) return inProgress("job suspended");
  return inProgress(`job running: ${num(obj.status?.succeeded)} succeeded, ${num(obj.status?.failed)} failed`);
}
