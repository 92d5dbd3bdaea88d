// The reconcile work queue: a bound across keys, one run per key at a time, a trigger during a run makes
// exactly one more run, a run that only waits gives its worker back, deleted keys and shutdown drop work.
import { test } from "node:test";
import assert from "node:assert/strict";
import { WorkQueue } from "../../src/agent/work-queue.js";

/** Work whose runs end when the test says so; records starts and the most runs seen at once. */
function controllable() {
  const state = { started: [] as string[], running: new Map<string, Array<() => void>>(), peak: 0, active: 0, releases: new Map<string, () => void>() };
  const work = (key: string, release: () => void) => new Promise<void>((resolve) => {
    state.started.push(key);
    state.active++;
    state.peak = Math.max(state.peak, state.active);
    state.releases.set(key, release);
    const list = state.running.get(key) ?? [];
    list.push(() => {
      state.active--;
      resolve();
    });
    state.running.set(key, list);
  });
  /** Ends the oldest run of `key`. */
  const finish = async (key: string) => {
    const list = state.running.get(key) ?? [];
    const done = list.shift();
    assert.ok(done, `${key} is running`);
    done();
    await settle();
  };
  return { state, work, finish };
}

const settle = async () => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};

test("at most `workers` keys run at once; the others wait their turn in order", async () => {
  const w = controllable();
  const queue = new WorkQueue(2, w.work);
  for (const key of ["a", "b", "c", "d", "e"]) queue.add(key);
  await settle();
  assert.deepEqual(w.state.started, ["a", "b"]);
  assert.deepEqual(queue.stats(), { waiting: 3, inFlight: 2, busy: 2 });
  await w.finish("a");
  assert.deepEqual(w.state.started, ["a", "b", "c"]);
  await w.finish("b");
  await w.finish("c");
  await w.finish("d");
  await w.finish("e");
  assert.deepEqual(w.state.started, ["a", "b", "c", "d", "e"]);
  assert.equal(w.state.peak, 2);
  assert.deepEqual(queue.stats(), { waiting: 0, inFlight: 0, busy: 0 });
});

test("one run per key: adds while it runs make exactly one more run after it; adds while it waits are one", async () => {
  const w = controllable();
  const queue = new WorkQueue(4, w.work);
  queue.add("web");
  await settle();
  for (let i = 0; i < 5; i++) queue.add("web");
  await settle();
  assert.deepEqual(w.state.started, ["web"], "never two runs of one key at once");
  await w.finish("web");
  assert.deepEqual(w.state.started, ["web", "web"], "the five adds became one more run");
  await w.finish("web");
  assert.deepEqual(w.state.started, ["web", "web"]);
  // Queued (not yet running) keys are deduplicated too.
  const busy = new WorkQueue(1, w.work);
  busy.add("x");
  busy.add("y");
  busy.add("y");
  await settle();
  await w.finish("x");
  await w.finish("y");
  assert.deepEqual(w.state.started.slice(2), ["x", "y"]);
});

test("a run that only waits gives its worker back but stays the key's only run", async () => {
  const w = controllable();
  const queue = new WorkQueue(1, w.work);
  queue.add("slow-rollout");
  queue.add("other");
  await settle();
  assert.deepEqual(w.state.started, ["slow-rollout"]);
  w.state.releases.get("slow-rollout")?.();
  await settle();
  assert.deepEqual(w.state.started, ["slow-rollout", "other"], "the waiting run's worker went to the next key");
  queue.add("slow-rollout");
  await settle();
  assert.deepEqual(w.state.started, ["slow-rollout", "other"], "still one run of slow-rollout at a time");
  w.state.releases.get("slow-rollout")?.(); // releasing twice gives back one worker, not two
  await w.finish("slow-rollout");
  assert.deepEqual(w.state.started, ["slow-rollout", "other"], "its re-run waits for the one worker that 'other' holds");
  await w.finish("other");
  assert.deepEqual(w.state.started, ["slow-rollout", "other", "slow-rollout"]);
  await w.finish("slow-rollout");
  assert.equal(w.state.peak, 2, "one run working and one waiting");
});

test("a failing run is reported and frees its worker; forget and shutDown drop what waits", async () => {
  const errors: string[] = [];
  const w = controllable();
  const queue = new WorkQueue(1, async (key, release) => {
    if (key === "broken") throw new Error("boom");
    await w.work(key, release);
  }, { onError: (key, e) => errors.push(`${key}: ${(e as Error).message}`) });
  queue.add("broken");
  queue.add("a");
  queue.add("deleted");
  queue.add("b");
  queue.forget("deleted");
  await settle();
  assert.deepEqual(errors, ["broken: boom"]);
  assert.deepEqual(w.state.started, ["a"]);
  queue.add("a"); // dirty: would run again
  queue.shutDown();
  await w.finish("a");
  queue.add("c");
  await settle();
  assert.deepEqual(w.state.started, ["a"], "nothing runs after shutDown: not b, not a's re-run, not c");
  assert.throws(() => new WorkQueue(0, w.work), /positive integer/);
});

test("stats and onStart tell how many keys wait and how long each waited for a worker", async () => {
  const w = controllable();
  let now = 0;
  const waited: Array<[string, number]> = [];
  const queue = new WorkQueue(1, w.work, { now: () => now, onStart: (key, ms) => waited.push([key, ms]) });
  queue.add("a");
  now = 5;
  queue.add("b");
  queue.add("c");
  await settle();
  assert.deepEqual(queue.stats(), { waiting: 2, inFlight: 1, busy: 1 });
  now = 105;
  await w.finish("a");
  assert.deepEqual(queue.stats(), { waiting: 1, inFlight: 1, busy: 1 });
  w.state.releases.get("b")?.(); // b waits for health: c gets the worker
  await settle();
  assert.deepEqual(queue.stats(), { waiting: 0, inFlight: 2, busy: 1 });
  assert.deepEqual(waited, [["a", 0], ["b", 100], ["c", 100]]);
  await w.finish("b");
  await w.finish("c");
  assert.deepEqual(queue.stats(), { waiting: 0, inFlight: 0, busy: 0 });
});
