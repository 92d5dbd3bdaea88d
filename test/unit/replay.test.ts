import { test } from "node:test";
import assert from "node:assert/strict";
import { DeliveryLog, RateLimiter } from "../../src/agent/replay.js";

const body = (n: number) => Buffer.from(`{"after":"${n}"}`);

test("a delivery is accepted once, recognised by its id and by its body; memory is bounded", () => {
  const log = new DeliveryLog(2);
  assert.equal(log.claim("a", body(1)), true);
  assert.equal(log.claim("a", body(9)), false, "same delivery id");
  assert.equal(log.claim("fresh-id", body(1)), false, "same signed body under a new id");
  assert.equal(log.claim(undefined, body(1)), false, "same signed body without an id");
  assert.equal(log.claim("b", body(2)), true);
  assert.equal(log.claim("c", body(3)), true);
  assert.equal(log.claim("a", body(1)), true, "the oldest delivery is forgotten beyond capacity");
  assert.equal(log.claim("c", body(3)), false);
});

test("a delivery whose handling failed is released, so GitHub's redelivery is accepted", () => {
  const log = new DeliveryLog();
  assert.equal(log.claim("a", body(1)), true);
  log.release("a", body(1));
  assert.equal(log.claim("a", body(1)), true);
  assert.equal(log.claim(undefined, body(5)), true);
  assert.equal(log.claim(undefined, body(5)), false);
});

test("the rate limiter lets one event through per window and reports how many it held back", () => {
  let now = 0;
  const limiter = new RateLimiter(1000, () => now);
  assert.equal(limiter.take(), 0);
  assert.equal(limiter.take(), undefined);
  assert.equal(limiter.take(), undefined);
  now = 1500;
  assert.equal(limiter.take(), 2);
  now = 1600;
  assert.equal(limiter.take(), undefined);
});
