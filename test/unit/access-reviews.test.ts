import { test } from "node:test";
import assert from "node:assert/strict";
import { AccessReviews, type ResourceAttributes } from "../../src/kube/access.js";

const patchConfigMaps: ResourceAttributes = { verb: "patch", group: "", resource: "configmaps", namespace: "team-a" };
const deployer = "system:serviceaccount:team-a:deployer";

/** A clock the test moves, and an `ask` that answers `answer` and counts how often it was asked. */
function setup(ttlMs = 30_000, maxEntries = 10_000) {
  let now = 1_000;
  const reviews = new AccessReviews(ttlMs, () => now, maxEntries);
  const asked: string[] = [];
  const ask = (name: string, answer: boolean) => async () => {
    asked.push(name);
    return answer;
  };
  return { reviews, asked, ask, advance: (ms: number) => (now += ms) };
}

test("an allowed review is reused within the TTL and asked again after it", async () => {
  const { reviews, asked, ask, advance } = setup();
  assert.equal(await reviews.allowed(deployer, patchConfigMaps, ask("first", true)), true);
  advance(29_999);
  assert.equal(await reviews.allowed(deployer, patchConfigMaps, ask("within", true)), true);
  assert.deepEqual(asked, ["first"]);
  advance(1);
  // Revoked meanwhile: the answer after the TTL is the API server's new one.
  assert.equal(await reviews.allowed(deployer, patchConfigMaps, ask("after", false)), false);
  assert.deepEqual(asked, ["first", "after"]);
});

test("a denial is never remembered: a permission granted after a refusal counts at once", async () => {
  const { reviews, asked, ask } = setup();
  assert.equal(await reviews.allowed(deployer, patchConfigMaps, ask("denied", false)), false);
  assert.equal(await reviews.allowed(deployer, patchConfigMaps, ask("granted", true)), true);
  assert.deepEqual(asked, ["denied", "granted"]);
});

test("an answer counts only for the same identity, verb, group, resource and namespace", async () => {
  const { reviews, asked, ask } = setup();
  await reviews.allowed(deployer, patchConfigMaps, ask("deployer", true));
  const others: Array<[string, string, ResourceAttributes]> = [
    ["another ServiceAccount", "system:serviceaccount:team-a:nobody", patchConfigMaps],
    ["the agent itself", "", patchConfigMaps],
    ["another verb", deployer, { ...patchConfigMaps, verb: "delete" }],
    ["another group", deployer, { ...patchConfigMaps, group: "apps" }],
    ["another resource", deployer, { ...patchConfigMaps, resource: "secrets" }],
    ["another namespace", deployer, { ...patchConfigMaps, namespace: "team-b" }],
    ["cluster-scoped", deployer, { verb: "patch", group: "", resource: "configmaps" }],
  ];
  for (const [name, identity, attributes] of others) assert.equal(await reviews.allowed(identity, attributes, ask(name, false)), false, name);
  assert.deepEqual(asked, ["deployer", ...others.map(([name]) => name)]);
});

test("the TTL counts from when the review was asked, not from when it was answered", async () => {
  const { reviews, asked, ask, advance } = setup(1_000);
  await reviews.allowed(deployer, patchConfigMaps, async () => {
    advance(600); // a slow answer
    return ask("slow", true)();
  });
  advance(400);
  await reviews.allowed(deployer, patchConfigMaps, ask("again", true));
  assert.deepEqual(asked, ["slow", "again"]);
});

test("the oldest answers go first beyond the bound", async () => {
  const { reviews, asked, ask } = setup(30_000, 2);
  for (const namespace of ["a", "b", "c"]) await reviews.allowed(deployer, { ...patchConfigMaps, namespace }, ask(namespace, true));
  await reviews.allowed(deployer, { ...patchConfigMaps, namespace: "c" }, ask("c again", true));
  await reviews.allowed(deployer, { ...patchConfigMaps, namespace: "a" }, ask("a again", true));
  assert.deepEqual(asked, ["a", "b", "c", "a again"]);
});
