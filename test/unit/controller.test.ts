// Leadership flapping must never leave two resync chains or two concurrent reconciles of one Environment.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Controller } from "../../src/agent/controller.js";
import { Metrics } from "../../src/agent/metrics.js";
import { silentLogger } from "../../src/log.js";
import type { KubeClient } from "../../src/kube/client.js";
import type { EventRecorder } from "../../src/agent/events.js";

test("stop/start flapping while a LIST is in flight runs a single resync chain", async () => {
  let lists = 0;
  let release: () => void = () => undefined;
  const client = {
    list: async () => {
      lists++;
      if (lists === 1) await new Promise<void>((r) => (release = r));
      return [];
    },
  } as unknown as KubeClient;
  const controller = new Controller({ client, log: silentLogger, events: {} as EventRecorder, metrics: new Metrics(), cacheDir: "/tmp/x", concurrency: 1 }, { resyncMs: 50 }, silentLogger);
  controller.start();
  await new Promise((r) => setTimeout(r, 10));
  await controller.stop();
  controller.start();
  release();
  await new Promise((r) => setTimeout(r, 240));
  await controller.stop();
  // One chain at 50 ms for ~240 ms: about 5 lists after the first. Two chains would make about twice as many.
  assert.ok(lists >= 3 && lists <= 7, `lists: ${lists}`);
});

test("a stuck Environment delays neither another Environment, nor shutdown, nor the next term", async () => {
  const env = (name: string) => ({ apiVersion: "baton.dev/v1alpha1", kind: "Environment", metadata: { name, namespace: "ns", generation: 1 }, spec: {} });
  const reads = { stuck: 0, healthy: 0 };
  const view = {
    list: async () => [env("stuck"), env("healthy")],
    get: async (_v: string, _k: string, _ns: string, name: "stuck" | "healthy") => {
      reads[name]++;
      if (name === "stuck") await new Promise(() => undefined); // a hung server that ignores cancellation
      return undefined; // gone: the run ends here
    },
  };
  const client = { ...view, withSignal: () => view } as unknown as KubeClient;
  const controller = new Controller({ client, log: silentLogger, events: { withClient: () => ({}) } as unknown as EventRecorder, metrics: new Metrics(), cacheDir: "/tmp/x", concurrency: 1 }, { resyncMs: 60_000 }, silentLogger);
  const until = async (probe: () => boolean) => {
    for (let i = 0; i < 500 && !probe(); i++) await new Promise((r) => setTimeout(r, 10));
  };
  controller.start();
  await until(() => reads.stuck === 1 && reads.healthy === 1);
  assert.deepEqual(reads, { stuck: 1, healthy: 1 });
  await controller.stop(100); // returns after its grace period although "stuck" never ends
  controller.start();
  await until(() => reads.healthy === 2);
  assert.deepEqual(reads, { stuck: 1, healthy: 2 }, "the healthy Environment ran again at once; the stuck one waits for its own earlier run");
  await controller.stop(100);
});
