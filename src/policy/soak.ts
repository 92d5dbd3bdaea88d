/**
 * Soak from GitHub deployments, pure. The agent records every applied revision as a deployment; GitHub's
 * `auto_inactive` (on by default) then marks each older successful deployment of a non-production
 * environment `inactive` when a newer one succeeds. So `inactive` after `success` means "superseded while
 * healthy", not "broken": consecutive healthy deployments of the same pins are one soak, measured from the
 * oldest one's success.
 */
import type { DeploymentStatus } from "../github/api.js";

export interface DeploymentHistory {
  /** Does this deployment's revision contain the newest change of the source's pins? */
  containsChange: boolean;
  /** Newest first, as GitHub lists them. */
  statuses: DeploymentStatus[];
}

/** When the newest success was reported for one deployment, if it succeeded and never failed after. */
export function succeededAt(statuses: DeploymentStatus[], newest: boolean): Date | undefined {
  const [latest] = statuses;
  if (!latest) return undefined;
  // The deployment running now must be healthy now; an older one may since have been inactivated.
  if (latest.state !== "success" && (newest || latest.state !== "inactive")) return undefined;
  const success = statuses.find((s) => s.state === "success");
  return success ? new Date(success.createdAt) : undefined;
}

/**
 * Since when the source has been healthy with its current pins: walk deployments newest first while they
 * contain the change and succeeded; the oldest such success starts the soak. Undefined: not healthy.
 */
export function soakStart(deployments: DeploymentHistory[]): Date | undefined {
  let since: Date | undefined;
  for (const [i, d] of deployments.entries()) {
    if (!d.containsChange) break;
    const at = succeededAt(d.statuses, i === 0);
    if (!at) break;
    since = at;
  }
  return since;
}
