// Sharding is a pure function of namespace/name: every Environment has exactly one owner, the split is even,
// and the mapping never changes between versions (a change would move Environments between shards).
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseAgentConfig } from "../../src/agent/config.js";
import { ownsEnvironment, shardLeaseName, shardOf } from "../../src/agent/shard.js";

test("each Environment belongs to exactly one of n shards, and the split is close to even", () => {
  const keys = Array.from({ length: 3000 }, (_, i) => `team-${i % 37}/env-${i}`);
  for (const count of [2, 3, 7]) {
    const sizes = new Array<number>(count).fill(0);
    for (const key of keys) {
      const owners = Array.from({ length: count }, (_, index) => index).filter((index) => ownsEnvironment({ index, count }, key));
      assert.equal(owners.length, 1, `${key} has one owner among ${count}`);
      sizes[owners[0]!]!++;
    }
    const even = keys.length / count;
    for (const size of sizes) assert.ok(Math.abs(size - even) < even * 0.1, `shard sizes ${sizes.join(", ")} for ${count} shards`);
  }
});

test("the mapping is stable across versions, and one shard owns everything", () => {
  // Pinned: if these change, an upgrade moves Environments to other shards while their old owner still runs.
  assert.deepEqual(["prod/web", "staging/web", "team-a/api", "team-b/api", "ops/db"].map((k) => shardOf(k, 3)), [0, 0, 0, 1, 2]);
  assert.equal(ownsEnvironment(undefined, "prod/web"), true);
  assert.equal(ownsEnvironment({ index: 0, count: 1 }, "prod/web"), true);
});

test("each shard has its own Lease; a single agent keeps the plain Lease name", () => {
  assert.equal(shardLeaseName("baton-agent", { index: 0, count: 1 }), "baton-agent");
  assert.equal(shardLeaseName("baton-agent", { index: 2, count: 3 }), "baton-agent-shard-2");
});

test("--shard must be a shard that exists", () => {
  assert.equal(parseAgentConfig({ shard: "1", shards: "2" }).shard, 1);
  assert.throws(() => parseAgentConfig({ shard: "2", shards: "2" }), /--shard must be below --shards/);
  assert.throws(() => parseAgentConfig({ shards: "0" }), /--shards/);
});
