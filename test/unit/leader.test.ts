// Leader election with client-go's semantics, against an in-memory Lease store that can be cut off.
// Durations are short real times; every assertion is about order and counts, never about elapsed time.
import { test } from "node:test";
import assert from "node:assert/strict";
import { defaultTimings, LeaderElector, validateTimings, type Clock, type LeaderTimings } from "../../src/agent/leader.js";
import { KubeApiError, type KubeClient } from "../../src/kube/client.js";
import type { KubeObject } from "../../src/config/objects.js";
import { silentLogger } from "../../src/log.js";

/** One Lease with resourceVersion checks; `partitioned` callers' requests hang until their signal aborts. */
class LeaseStore {
  lease?: KubeObject;
  private rv = 0;
  readonly partitioned = new Set<string>();
  readonly writes = new Map<string, number>();
  readonly aborted = new Map<string, number>();

  clientFor(who: string): KubeClient {
    const view = (signal?: AbortSignal) => {
      const call = <T>(fn: () => T, write: boolean): Promise<T> => new Promise<T>((resolve, reject) => {
        if (signal?.aborted) return reject(new Error("aborted before sending"));
        const onAbort = () => {
          this.aborted.set(who, (this.aborted.get(who) ?? 0) + 1);
          reject(new Error("aborted"));
        };
        signal?.addEventListener("abort", onAbort, { once: true });
        if (this.partitioned.has(who)) return; // the request never reaches the server
        setImmediate(() => {
          signal?.removeEventListener("abort", onAbort);
          if (signal?.aborted) return;
          try {
            if (write) this.writes.set(who, (this.writes.get(who) ?? 0) + 1);
            resolve(fn());
          } catch (e) {
            reject(e);
          }
        });
      });
      const store = (obj: KubeObject, expectRv: string | undefined): KubeObject => {
        if (this.lease && expectRv !== this.lease.metadata.resourceVersion) throw new KubeApiError(409, "Conflict", "conflict", undefined);
        this.lease = structuredClone({ ...obj, metadata: { ...obj.metadata, resourceVersion: String(++this.rv) } });
        return structuredClone(this.lease);
      };
      return {
        withSignal: (s: AbortSignal) => view(s),
        get: () => call(() => (this.lease ? structuredClone(this.lease) : undefined), false),
        create: (obj: KubeObject) => call(() => {
          if (this.lease) throw new KubeApiError(409, "AlreadyExists", "exists", undefined);
          return store(obj, undefined);
        }, true),
        replace: (obj: KubeObject) => call(() => store(obj, obj.metadata.resourceVersion as string | undefined), true),
      } as unknown as KubeClient;
    };
    return view();
  }

  holder(): string | undefined {
    return (this.lease?.spec as { holderIdentity?: string } | undefined)?.holderIdentity;
  }
}

const timings: LeaderTimings = { leaseDurationMs: 1000, renewDeadlineMs: 600, retryPeriodMs: 100 };
const skewed = (offsetMs: number): Clock => ({ monotonic: () => performance.now(), wall: () => new Date(Date.now() + offsetMs) });
const until = async (what: string, probe: () => boolean) => {
  for (let i = 0; i < 1500 && !probe(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(probe(), `timed out waiting for: ${what}`);
};

function candidate(store: LeaseStore, identity: string, log: string[], clock?: Clock): LeaderElector {
  return new LeaderElector(store.clientFor(identity), { namespace: "ns", name: "lease", identity, timings, ...(clock ? { clock } : {}) }, silentLogger, {
    onStartedLeading: (signal) => {
      log.push(`${identity} started`);
      signal.addEventListener("abort", () => log.push(`${identity} aborted`));
    },
    onStoppedLeading: () => log.push(`${identity} stopped`),
  });
}

test("timings follow client-go: lease > renew deadline > 1.2 × retry period; defaults are 15s/10s/2s", () => {
  assert.deepEqual(defaultTimings(15), { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2000 });
  assert.throws(() => validateTimings({ leaseDurationMs: 10_000, renewDeadlineMs: 10_000, retryPeriodMs: 2000 }), (e: Error & { code?: string }) => e.code === "USAGE" && /longer than the renew deadline/.test(e.message));
  assert.throws(() => validateTimings({ leaseDurationMs: 15_000, renewDeadlineMs: 2000, retryPeriodMs: 2000 }), /1.2 × the retry period/);
  assert.throws(() => defaultTimings(15, 20_000), /must be longer than the renew deadline/);
});

test("clocks 30 s apart: the candidate never takes a lease whose record keeps changing, and writes nothing", async () => {
  const store = new LeaseStore();
  const log: string[] = [];
  const a = candidate(store, "a", log, skewed(-30_000));
  a.start();
  await until("a leads", () => a.isLeader());
  const b = candidate(store, "b", log, skewed(+30_000));
  b.start();
  // b's wall clock says a's renewTime is 60 s old (the old rule: expired at once). Let b look many times,
  // over more than two lease durations.
  const renewsBefore = store.writes.get("a") ?? 0;
  await until("a renewed over two lease durations", () => (store.writes.get("a") ?? 0) > renewsBefore + (2 * timings.leaseDurationMs) / timings.retryPeriodMs);
  assert.equal(b.isLeader(), false);
  assert.equal(store.writes.get("b") ?? 0, 0, "the candidate wrote nothing");
  assert.deepEqual(log, ["a started"]);
  await a.stop();
  await until("b takes the released lease", () => b.isLeader());
  await b.stop();
  assert.deepEqual(log, ["a started", "a aborted", "a stopped", "b started", "b aborted", "b stopped"]);
});

test("a leader cut off from the API server stops (aborting its requests) before the standby takes over", async () => {
  const store = new LeaseStore();
  const log: string[] = [];
  const a = candidate(store, "a", log);
  a.start();
  await until("a leads", () => a.isLeader());
  const b = candidate(store, "b", log);
  b.start();
  await until("b saw the lease", () => (store.aborted.get("a") ?? 0) === 0 && store.holder() === "a");
  store.partitioned.add("a");
  await until("b took over", () => b.isLeader());
  assert.deepEqual(log, ["a started", "a aborted", "a stopped", "b started"], "a's term ended before b's began");
  assert.ok((store.aborted.get("a") ?? 0) >= 1, "a's hanging renew was cancelled, not left to land later");
  assert.equal(a.isLeader(), false);
  store.partitioned.delete("a");
  await until("a sees b's lease and stays a candidate", () => (store.writes.get("b") ?? 0) > 3);
  assert.equal(a.isLeader(), false);
  assert.equal(store.holder(), "b");
  await a.stop();
  await b.stop();
});

test("a record that stops changing is taken over one lease duration after it was last seen changing", async () => {
  const store = new LeaseStore();
  // A lease whose renewTime lies in the future by the local clock: only observation time counts.
  store.lease = { apiVersion: "coordination.k8s.io/v1", kind: "Lease", metadata: { name: "lease", namespace: "ns", resourceVersion: "0" }, spec: { holderIdentity: "gone", leaseDurationSeconds: 1, renewTime: new Date(Date.now() + 3_600_000).toISOString() } };
  const log: string[] = [];
  const b = candidate(store, "b", log);
  b.start();
  await until("b takes the stale lease", () => b.isLeader());
  assert.equal(store.holder(), "b");
  assert.equal((store.lease?.spec as { leaseTransitions?: number }).leaseTransitions, 1);
  await b.stop();
  assert.equal(store.holder(), undefined, "released on stop");
});
