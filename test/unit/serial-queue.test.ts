import { test } from "node:test";
import assert from "node:assert/strict";
import { KeyedSerialQueue } from "../../src/util/serial.js";

/** A task the test finishes by hand, recording when it started. */
function gate(log: string[], name: string) {
  let open = () => {};
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { task: async () => {
    log.push(`start ${name}`);
    await opened;
    log.push(`end ${name}`);
  }, open };
}

test("one key's tasks run one at a time, in the order they were added", async () => {
  const queue = new KeyedSerialQueue();
  const log: string[] = [];
  const [a, b, c] = ["applied", "pruned", "health"].map((n) => gate(log, n));
  const done = [a, b, c].map((g) => queue.add("ns/web", (g as ReturnType<typeof gate>).task));
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(log, ["start applied"], "the second waits for the first");
  c?.open();
  b?.open();
  a?.open();
  await Promise.all(done);
  assert.deepEqual(log, ["start applied", "end applied", "start pruned", "end pruned", "start health", "end health"]);
});

test("keys do not wait for each other, and a failed task does not stop the next", async () => {
  const queue = new KeyedSerialQueue();
  const log: string[] = [];
  const stuck = gate(log, "a1");
  void queue.add("ns/a", stuck.task);
  await queue.add("ns/b", async () => {
    log.push("b1");
  });
  assert.deepEqual(log, ["start a1", "b1"], "another key ran while the first hangs");
  void queue.add("ns/a", async () => {
    throw new Error("the API refused it");
  });
  const after = queue.add("ns/a", async () => {
    log.push("a3");
  });
  stuck.open();
  await after;
  await queue.idle("ns/a");
  assert.deepEqual(log, ["start a1", "b1", "end a1", "a3"]);
});

test("beyond maxPending waiting tasks of a key, a new one is refused; the key takes tasks again once they ran", async () => {
  const queue = new KeyedSerialQueue(2);
  const log: string[] = [];
  const first = gate(log, "1");
  assert.ok(queue.add("ns/web", first.task));
  assert.ok(queue.add("ns/web", async () => void log.push("2")));
  assert.equal(queue.add("ns/web", async () => void log.push("3")), undefined);
  assert.ok(queue.add("ns/other", async () => void log.push("other")), "the bound is per key");
  first.open();
  await queue.idle("ns/web");
  assert.ok(queue.add("ns/web", async () => void log.push("4")));
  await queue.idle("ns/web");
  assert.deepEqual(log.filter((l) => l !== "other"), ["start 1", "end 1", "2", "4"]);
});
