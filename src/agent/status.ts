/**
 * Writes an Environment's status with optimistic concurrency. The patch carries the resourceVersion the
 * reconcile started from, so it never overwrites a status it has not read. On a conflict it reads again:
 * when only metadata moved (a standby's reconcile-request annotation, a label), the same status is
 * written on the fresh version; when the status itself changed (another replica reconciled meanwhile),
 * this result is stale and is dropped rather than written over the newer one. Fields the new status no
 * longer has (status.release once the strategy is gone, release.step once a release completed) are sent
 * as null, so the stored status is exactly the one computed.
 */
import { isDeepStrictEqual } from "node:util";
import { KubeApiError, type KubeClient } from "../kube/client.js";
import { mergePatchFrom } from "../kube/merge-patch.js";
import { ENV_API_VERSION, ENV_KIND, type EnvironmentObject, type EnvironmentStatus } from "./environment.js";

/** While nothing else changes, `lastReconcileTime` is refreshed this often: a heartbeat, not a write per interval. */
export const STATUS_HEARTBEAT_MS = 10 * 60_000;

/**
 * Whether a reconcile's status must be written: something other than `lastReconcileTime` changed, or the
 * stored `lastReconcileTime` is older than the heartbeat. A reconcile that changes nothing writes nothing,
 * so N idle Environments cost etcd no writes per interval. Compared as JSON: an `undefined` field is absent.
 */
export function statusNeedsWrite(stored: EnvironmentStatus | undefined, next: EnvironmentStatus, now: Date): boolean {
  const { lastReconcileTime: storedTime, ...storedRest } = stored ?? {};
  const { lastReconcileTime: _nextTime, ...nextRest } = next;
  if (!isDeepStrictEqual(JSON.parse(JSON.stringify(storedRest)), JSON.parse(JSON.stringify(nextRest)))) return true;
  const last = storedTime ? Date.parse(storedTime) : NaN;
  return !(now.getTime() - last < STATUS_HEARTBEAT_MS);
}

/** `written` carries the object as stored, the base of the next write in the same reconcile. */
export type StatusWrite = { result: "written"; env: EnvironmentObject } | { result: "stale" | "gone" };

export async function writeStatus(client: KubeClient, env: EnvironmentObject, status: EnvironmentStatus, attempts = 3): Promise<StatusWrite> {
  const namespace = env.metadata.namespace ?? "default";
  const name = env.metadata.name;
  let base = env;
  for (let attempt = 1; ; attempt++) {
    try {
      const written = await client.mergePatch(ENV_API_VERSION, ENV_KIND, namespace, name, { metadata: { resourceVersion: base.metadata.resourceVersion }, status: mergePatchFrom(base.status, { ...status }) }, "status");
      return { result: "written", env: written as EnvironmentObject };
    } catch (e) {
      if (!(e instanceof KubeApiError && e.status === 409) || attempt >= attempts) throw e;
    }
    const fresh = (await client.get(ENV_API_VERSION, ENV_KIND, namespace, name)) as EnvironmentObject | undefined;
    if (!fresh) return { result: "gone" };
    if (!isDeepStrictEqual(fresh.status ?? {}, base.status ?? {})) return { result: "stale" };
    base = fresh;
  }
}
