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
