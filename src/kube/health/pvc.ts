import { current, inProgress, type Health, type LiveObject } from "./types.js";

export function pvcHealth(obj: LiveObject): Health {
  return obj.status?.phase === "Bound" ? current("bound") : inProgress(`phase ${String(obj.status?.phase ?? "Pending")}`);
}
