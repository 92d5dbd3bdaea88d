import { condition, current, failed, inProgress, type Health, type LiveObject } from "./types.js";

export function jobHealth(obj: LiveObject): Health {
  if (condition(obj, "Failed")?.status === "True") return failed(`job failed: ${condition(obj, "Failed")?.message ?? ""}`.trim());
  if (condition(obj, "Complete")?.status === "True") return current("job completed");
  return inProgress("job running");
}
