// Leadership flapping must never leave two watches or two concurrent reconciles of one Environment; watch
// events (not a list on a timer) start reconciles.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Controller } from "../../src/agent/controller.js";
import { Metrics } from "../../src/agent/metrics.js";
import { GitSources } from "../../src/git/sources.js";
import { silentLogger } from "../../src/log.js";
import type { KubeClient } from "../../src/kube/client.js";
import type { EventRecorder } from "../../src/agent/events.js";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { ConfigRepo } from "../support/config-repo.js";
import { GitServer } from "../support/git-server.js";

/**
 * A client double for the controller's informers: `listAt` answers `items()`, and each watch stays open
 * until its term's signal aborts (counted in `open`); `events` pushes watch events into the open watches.
 */
function informerClient(items: () => unknown[], extra: Record<string, unknown> = {}) {
  const state = { lists: 0, open: 0, listGate: undefined as Promise<void> | undefined, emit: [] as Array<(e: { type: string; object: unknown }) => void> };
  const view = (signal?: AbortSignal): Record<string, unknown> => ({
    ...extra,
    listAt: async () => {
      state.lists++;
      if (state.listGate) await state.listGate;
      return { items: items(), resourceVersion: String(state.lists) };
    },
    watch: (_v: string, _k: string, _ns: string | undefined, _rv: string, onEvent: (e: { type: string; object: unknown }) => void) => new Promise<void>((_resolve, reject) => {
      state.open++;
      state.emit.push(onEvent);
      signal?.addEventListener("abort", () => {
        state.open--;
        state.emit = state.emit.filter((e) => e !== onEvent);
        reject(new Error("aborted"));
      }, { once: true });
    }),
    withSignal: (s: AbortSignal) => view(signal ? AbortSignal.any([signal, s]) : s),
  });
  return { client: view() as unknown as KubeClient, state, send: (type: string, object: unknown) => state.emit.forEach((e) => e({ type, object })) };
}

const until = async (probe: () => boolean) => {
  for (let i = 0; i < 500 && !probe(); i++) await new Promise((r) => setTimeout(r, 10));
};

test("stop/start flapping while a LIST is in flight leaves a single watch", async () => {
  const { client, state } = informerClient(() => []);
  let release: () => void = () => undefined;
  state.listGate = new Promise<void>((r) => (release = r));
  const controller = new Controller({ client, log: silentLogger, events: {} as EventRecorder, metrics: new Metrics(), sources: new GitSources("/tmp/x", { concurrency: 1 }), concurrency: 1 }, { resyncMs: 50 }, silentLogger);
  controller.start();
  await until(() => state.lists === 1);
  await controller.stop();
  controller.start();
  await until(() => state.lists === 2);
  release();
  await until(() => state.open > 0);
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(state.open, 1, "the first term's list answered after its term ended and opened no watch");
  assert.equal(state.lists, 2, "no list on a timer while the watch is open");
  await controller.stop();
  assert.equal(state.open, 0);
});

/** Counts runs: each run takes the Event recorder once (its spec `{}` then fails validation, which is reported). */
function countingEvents() {
  const counter = { runs: 0 };
  const events = { withClient: () => {
    counter.runs++;
    return { record: async () => undefined };
  } } as unknown as EventRecorder;
  return { counter, events };
}

test("watch events drive reconciles: a new or changed spec runs at once, a status change does not, a deletion ends the loop; runs read the watch's copy", async () => {
  const env = (generation: number, extra: Record<string, unknown> = {}) => ({ apiVersion: "baton.dev/v1alpha1", kind: "Environment", metadata: { name: "web", namespace: "ns", generation, resourceVersion: String(generation), ...extra }, spec: {} });
  let gets = 0;
  const { counter, events } = countingEvents();
  // The status write answers the object as the watch last showed it (same resourceVersion).
  let shown: unknown = env(1);
  const { client, state, send: emit } = informerClient(() => [], { get: async () => {
    gets++;
    return undefined;
  }, mergePatch: async () => shown });
  const send = (type: string, object: unknown) => {
    shown = object;
    emit(type, object);
  };
  const reads = { get runs() {
    return counter.runs;
  } };
  const controller = new Controller({ client, log: silentLogger, events, metrics: new Metrics(), sources: new GitSources("/tmp/x", { concurrency: 1 }), concurrency: 1 }, { resyncMs: 60_000 }, silentLogger);
  controller.start();
  await until(() => state.open === 1);
  send("ADDED", env(1));
  await until(() => reads.runs === 1);
  send("MODIFIED", { ...env(1), status: { lastReconcileTime: "now" } });
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(reads.runs, 1, "a status write (same generation) triggers nothing");
  send("MODIFIED", env(2));
  await until(() => reads.runs === 2);
  send("MODIFIED", env(2, { annotations: { "baton.dev/reconcile-requested-at": "t" } }));
  await until(() => reads.runs === 3);
  assert.equal(reads.runs, 3, "a spec change and a reconcile request each run at once");
  assert.equal(gets, 0, "each run read the Environment from the watch, not from the API server");
  send("DELETED", env(2));
  assert.deepEqual(controller.environments(), []);
  await controller.stop();
});

test("a stuck Environment delays neither another Environment, nor shutdown, nor the next term", async () => {
  const env = (name: string) => ({ apiVersion: "baton.dev/v1alpha1", kind: "Environment", metadata: { name, namespace: "ns", generation: 1 }, spec: {} });
  const reads = { stuck: 0, healthy: 0 };
  // Each run reports its invalid spec ({}) with one status write; the stuck one's never returns.
  const { client } = informerClient(() => [env("stuck"), env("healthy")], {
    mergePatch: async (_v: string, _k: string, _ns: string, name: "stuck" | "healthy") => {
      reads[name]++;
      if (name === "stuck") await new Promise(() => undefined); // a hung server that ignores cancellation
      return env(name);
    },
  });
  const controller = new Controller({ client, log: silentLogger, events: countingEvents().events, metrics: new Metrics(), sources: new GitSources("/tmp/x", { concurrency: 1 }), concurrency: 1 }, { resyncMs: 60_000, maxConcurrentReconciles: 2 }, silentLogger);
  controller.start();
  await until(() => reads.stuck === 1 && reads.healthy === 1);
  assert.deepEqual(reads, { stuck: 1, healthy: 1 });
  await controller.stop(100); // returns after its grace period although "stuck" never ends
  controller.start();
  await until(() => reads.healthy === 2);
  assert.deepEqual(reads, { stuck: 1, healthy: 2 }, "the healthy Environment ran again at once; the stuck one waits for its own earlier run");
  await controller.stop(100);
});

test("an interval below the floor (0s) is reported Stalled and retried at the default interval, never in a loop", async () => {
  const env = { apiVersion: "baton.dev/v1alpha1", kind: "Environment", metadata: { name: "hot", namespace: "ns", generation: 1, resourceVersion: "1" }, spec: { url: "https://git.example.com/config.git", path: "env", interval: "0s" } };
  const written: Array<Record<string, unknown>> = [];
  const { client } = informerClient(() => [env], {
    get: async () => env,
    mergePatch: async (_v: string, _k: string, _ns: string, _n: string, patch: Record<string, unknown>) => {
      written.push(patch);
      return { ...env, metadata: { ...env.metadata, resourceVersion: String(written.length + 1) } };
    },
  });
  const metrics = new Metrics();
  const runs = async () => (await metrics.reconcileTotal.get()).values.reduce((n, v) => n + v.value, 0);
  const events = { withClient: () => ({ record: async () => undefined }) } as unknown as EventRecorder;
  const controller = new Controller({ client, log: silentLogger, events, metrics, sources: new GitSources("/tmp/x", { concurrency: 1 }), concurrency: 1 }, { resyncMs: 60_000 }, silentLogger);
  controller.start();
  for (let i = 0; i < 500 && (await runs()) === 0; i++) await new Promise((r) => setTimeout(r, 10));
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(await runs(), 1, "one run; the next one is a minute away");
  assert.match(JSON.stringify(written), /spec\.interval must be at least 1s/);
  await controller.stop();
});

test("a run right after the agent's own status write reads the Environment from the API server until the watch shows that write", async () => {
  const env = (resourceVersion: string, request?: string) => ({ apiVersion: "baton.dev/v1alpha1", kind: "Environment", metadata: { name: "web", namespace: "ns", generation: 1, resourceVersion, ...(request ? { annotations: { "baton.dev/reconcile-requested-at": request } } : {}) }, spec: {} });
  let gets = 0;
  const { counter, events } = countingEvents();
  // Every status write is stored as resourceVersion 10, which the watch shows only later.
  const { client, state, send } = informerClient(() => [], { get: async () => {
    gets++;
    return env("10");
  }, mergePatch: async () => env("10") });
  const controller = new Controller({ client, log: silentLogger, events, metrics: new Metrics(), sources: new GitSources("/tmp/x", { concurrency: 1 }), concurrency: 1 }, { resyncMs: 60_000 }, silentLogger);
  controller.start();
  await until(() => state.open === 1);
  send("ADDED", env("1"));
  await until(() => counter.runs === 1);
  assert.equal(gets, 0, "the first run reads the watch's copy");
  send("MODIFIED", env("2", "a"));
  await until(() => counter.runs === 2);
  assert.equal(gets, 1, "the watch had not shown the write (10): the run read the Environment from the API server");
  send("MODIFIED", env("10", "a"));
  send("MODIFIED", env("11", "b"));
  await until(() => counter.runs === 3);
  assert.equal(gets, 1, "once the watch showed it, runs read the watch's copy again");
  await controller.stop();
});

test("the queue's depth, its runs in flight and how long runs waited are Prometheus metrics", async () => {
  const env = (name: string) => ({ apiVersion: "baton.dev/v1alpha1", kind: "Environment", metadata: { name, namespace: "ns", generation: 1 }, spec: {} });
  let writes = 0;
  let unblock: () => void = () => undefined;
  const blocked = new Promise<void>((r) => (unblock = r));
  // Each run reports its invalid spec ({}) with one status write; the first one's write waits for the test.
  const { client } = informerClient(() => [env("a"), env("b"), env("c")], {
    mergePatch: async (_v: string, _k: string, _ns: string, name: string) => {
      writes++;
      if (writes === 1) await blocked;
      return env(name);
    },
  });
  const metrics = new Metrics();
  const controller = new Controller({ client, log: silentLogger, events: countingEvents().events, metrics, sources: new GitSources("/tmp/x", { concurrency: 1 }), concurrency: 1 }, { resyncMs: 60_000, maxConcurrentReconciles: 1 }, silentLogger);
  controller.start();
  await until(() => writes === 1);
  const text = await metrics.render();
  assert.match(text, /^baton_reconcile_queue_depth 2$/m, "two Environments wait for the one worker");
  assert.match(text, /^baton_reconcile_queue_in_flight\{state="working"\} 1$/m);
  assert.match(text, /^baton_reconcile_queue_in_flight\{state="waiting_health"\} 0$/m);
  unblock();
  await until(() => writes === 3);
  await new Promise((r) => setTimeout(r, 20));
  const after = await metrics.render();
  assert.match(after, /^baton_reconcile_queue_depth 0$/m);
  assert.match(after, /^baton_reconcile_queue_wait_seconds_count 3$/m, "each of the three runs recorded its wait");
  await controller.stop();
});

test("a push reconciles once: the new revision its own fetch saw does not queue a second run, one seen by another check does", async () => {
  const server = await GitServer.create();
  // Every revision holds a file that does not parse: each run stops at render, Stalled (no retry before
  // the 1h interval), which is all this test needs: it counts runs and the revision each one read.
  const broken = (n: number) => ({ "env/a.yaml": `revision: ${n}\nnot yaml: [\n` });
  const repo = await ConfigRepo.create(server, "config", broken(1));
  const cache = await fs.mkdtemp(path.join(os.tmpdir(), "baton-controller-"));
  const env = { apiVersion: "baton.dev/v1alpha1", kind: "Environment", metadata: { name: "web", namespace: "ns", generation: 1, resourceVersion: "1" }, spec: { url: repo.url, branch: "main", path: "env", interval: "1h" } };
  const { client, state, send } = informerClient(() => [], { mergePatch: async () => env, discover: async () => undefined, isClusterScoped: () => false });
  const { counter, events } = countingEvents();
  // Wired as agent.ts wires them: a head any check sees moving wakes the source's readers.
  const sources = new GitSources(cache, { concurrency: 2, onNewRevision: (source, revision) => controller.followRevision(source, revision) });
  const controller = new Controller({ client, log: silentLogger, events, metrics: new Metrics(), sources, concurrency: 1, allowInsecureHttp: true }, { resyncMs: 60_000 }, silentLogger);
  const lastRevision = () => controller.environments()[0]?.lastResult?.revision;
  try {
    controller.start();
    await until(() => state.open === 1);
    send("ADDED", env);
    const first = await repo.git("rev-parse", "HEAD");
    await until(() => lastRevision() === first);
    const pushed = await repo.commit(broken(2), "a push");
    assert.deepEqual(controller.triggerPush({ ref: "refs/heads/main", repository: { clone_url: repo.url } }), ["ns/web"]);
    await until(() => lastRevision() === pushed);
    // A second run would have been queued by the end of the first (the queue re-runs a dirty key at once).
    await new Promise((r) => setImmediate(r));
    assert.equal(counter.runs, 2, "one run for the new Environment, one for the push: the push's run read the revision its fetch announced");
    // A revision seen by someone else's check (another Environment of the source, the poller) still wakes it.
    const third = await repo.commit(broken(3), "another push");
    assert.equal(await sources.head({ url: repo.url, branch: "main" }, { allowInsecureHttp: true }), third);
    await until(() => lastRevision() === third);
    assert.equal(counter.runs, 3);
  } finally {
    await controller.stop();
    await repo.destroy();
    await server.destroy();
    await fs.rm(cache, { recursive: true, force: true });
  }
});
