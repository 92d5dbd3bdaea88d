import { condition, current, describe, failed, inProgress, type Health, type LiveObject } from "./types.js";

/** The API groups of Flux's controllers (helm, kustomize, source, notification, image…): all report kstatus conditions. */
export const isFluxGroup = (group: string): boolean => group.endsWith(".toolkit.fluxcd.io");

/**
 * Ready=False reasons after which helm-controller does not try again by itself: the install, upgrade,
 * test or remediation failed (a successful rollback or uninstall still means the wanted release failed)
 * and no retry is under way. `ArtifactFailed` and `DependencyNotReady` are left out on purpose: the
 * source or a dependency may simply not be ready yet, which the health timeout covers.
 */
const HELM_RELEASE_FAILURES = new Set(["InstallFailed", "UpgradeFailed", "TestFailed", "RollbackFailed", "UninstallFailed", "RollbackSucceeded", "UninstallSucceeded", "RetriesExceeded"]);

/**
 * Health of a Flux object (HelmRelease, Kustomization, GitRepository…), the way kstatus and Flux's own
 * health checks read it: nothing counts until the controller observed the current generation, so a
 * release that was just applied (no status yet) is InProgress, never healthy by default. Then `Stalled`
 * is Failed, `Ready=True` is Current, `Ready=False` with a terminal reason and no retry under way
 * (`Reconciling=True`) is Failed, anything else InProgress.
 */
export function fluxHealth(obj: LiveObject): Health {
  const what = `${obj.kind} ${obj.metadata.name}`;
  const generation = obj.metadata.generation;
  const observed = obj.status?.observedGeneration;
  const suspended = obj.spec?.suspend === true ? " (suspended in its spec: Flux will not reconcile it)" : "";
  if (observed === undefined) return inProgress(`waiting for Flux to reconcile ${what}${suspended}`);
  if (generation !== undefined && observed < generation) return inProgress(`waiting for Flux to observe generation ${generation} of ${what} (observed ${observed})${suspended}`);

  const stalled = condition(obj, "Stalled");
  if (stalled?.status === "True") return failed(`${what} stalled: ${describe(stalled)}`);

  const ready = condition(obj, "Ready");
  if (!ready) return inProgress(`waiting for Flux to report ${what} Ready`);
  if (generation !== undefined && ready.observedGeneration !== undefined && ready.observedGeneration < generation) {
    return inProgress(`${what}'s Ready condition is for generation ${ready.observedGeneration}, waiting for ${generation}`);
  }
  if (ready.status === "True") return current(ready.message || "ready");

  const retrying = condition(obj, "Reconciling")?.status === "True";
  if (ready.status === "False" && !retrying && isTerminal(obj, ready.reason)) return failed(`${what} failed: ${describe(ready)}`);
  return inProgress(`${what} not ready: ${describe(ready)}`);
}

function isTerminal(obj: LiveObject, reason: string | undefined): boolean {
  if (!reason) return false;
  if (obj.kind === "HelmRelease") return HELM_RELEASE_FAILURES.has(reason);
  // Other Flux kinds name their failures `…Failed` (BuildFailed, HealthCheckFailed, ReconciliationFailed…).
  return reason.endsWith("Failed") && reason !== "ArtifactFailed";
}
