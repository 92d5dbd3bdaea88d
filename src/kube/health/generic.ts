import { condition, current, failed, inProgress, staleGeneration, type Health, type LiveObject } from "./types.js";

/** Any kind with a `Ready` (or CRD `Established`) condition; everything else is ready once it exists. */
export function genericHealth(obj: LiveObject): Health {
  const stale = staleGeneration(obj);
  if (stale) return stale;
  if (obj.kind === "CustomResourceDefinition") {
    return condition(obj, "Established")?.status === "True" ? current("established") : inProgress("CRD not established yet");
  }
  const ready = condition(obj, "Ready");
  if (!ready) return current("exists");
  if (ready.status === "True") return current(ready.message || "ready");
  if (ready.status === "False" && /fail|error/i.test(ready.reason ?? "")) return failed(ready.message ?? ready.reason ?? "not ready");
  return inProgress(ready.message ?? "not ready");
}
