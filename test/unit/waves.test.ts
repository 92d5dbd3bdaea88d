// Waves, pure: which wave a promotion moves and what holds the next one back.
import { test } from "node:test";
import assert from "node:assert/strict";
import { parsePipeline } from "../../src/config/pipeline.js";
import { BatonError } from "../../src/errors.js";
import { chooseWave, destinationOf, sourceEnvironment, waveBlockers } from "../../src/promote/waves.js";
import { checkOrder } from "../../src/promote/policy.js";

const pipeline = parsePipeline({
  apiVersion: "baton.dev/v1alpha1", kind: "Pipeline",
  environments: [
    { name: "staging", path: "environments/staging" },
    { name: "production", promoteFrom: "staging", waveSoak: "10m", targets: [
      { name: "prod-eu", path: "environments/prod-eu" }, { name: "prod-ap", path: "environments/prod-ap" },
      { name: "prod-us", path: "environments/prod-us", wave: 2 },
    ] },
    { name: "dr", path: "environments/dr", promoteFrom: "production" },
  ],
});
const production = destinationOf(pipeline, "production");
const names = (c: ReturnType<typeof chooseWave>) => c && { wave: c.wave, targets: c.targets.map((t) => t.name), earlier: c.earlier.map((t) => t.name) };
const code = (c: string, pattern?: RegExp) => (e: unknown) => e instanceof BatonError && e.code === c && (!pattern || pattern.test(e.message));

test("the next wave is the first with a target that does not run the promoted digests", () => {
  assert.deepEqual(names(chooseWave(production, () => false)), { wave: 1, targets: ["prod-eu", "prod-ap"], earlier: [] });
  // One wave-1 target behind still means wave 1 (its PR edits what is behind; promote filters the no-ops).
  assert.deepEqual(names(chooseWave(production, (t) => t === "prod-eu")), { wave: 1, targets: ["prod-eu", "prod-ap"], earlier: [] });
  assert.deepEqual(names(chooseWave(production, (t) => t !== "prod-us")), { wave: 2, targets: ["prod-us"], earlier: ["prod-eu", "prod-ap"] });
  assert.equal(chooseWave(production, () => true), undefined);
});

test("a requested wave (or a named target's) is refused while an earlier wave does not run the digests", () => {
  assert.throws(() => chooseWave(production, (t) => t === "prod-eu", 2), code("PROMOTE_WAVE_NOT_READY", /wave 2 of production waits for prod-ap \(wave 1\) to run these digests first/));
  assert.throws(() => chooseWave(destinationOf(pipeline, "prod-us"), () => false), code("PROMOTE_WAVE_NOT_READY", /prod-eu \(wave 1\), prod-ap \(wave 1\)/));
  assert.deepEqual(names(chooseWave(destinationOf(pipeline, "prod-us"), (t) => t !== "prod-us")), { wave: 2, targets: ["prod-us"], earlier: ["prod-eu", "prod-ap"] });
  assert.deepEqual(names(chooseWave(destinationOf(pipeline, "prod-ap"), () => false)), { wave: 1, targets: ["prod-ap"], earlier: [] });
  assert.throws(() => chooseWave(production, () => false, 3), code("USAGE", /waves 1 to 2; there is no wave 3/));
  assert.throws(() => chooseWave(destinationOf(pipeline, "prod-us"), () => true, 1), code("USAGE", /prod-us is in wave 2 of production, not wave 1/));
});

test("earlier-wave targets hold the next wave until each is healthy for waveSoak", () => {
  const now = new Date("2026-11-27T12:00:00Z");
  const ago = (m: number) => new Date(now.getTime() - m * 60_000);
  const { stage } = production;
  const earlier = stage.waves[0] ?? [];
  assert.deepEqual(waveBlockers(stage, earlier, new Map([["prod-eu", ago(11)], ["prod-ap", ago(10)]]), now), []);
  assert.deepEqual(waveBlockers(stage, earlier, new Map([["prod-eu", ago(11)], ["prod-ap", ago(4)]]), now), ["prod-ap healthy for 4m; waveSoak needs 10m (6m left)"]);
  assert.deepEqual(waveBlockers(stage, earlier, new Map([["prod-eu", undefined]]), now), ["prod-eu has no successful deployment of its current revision yet", "prod-ap has no successful deployment of its current revision yet"]);
});

test("order and sources: a stage promotes from its promoteFrom or a target of it; a stage of several targets is no single source", () => {
  assert.deepEqual(checkOrder(pipeline, "staging", "production"), { skipped: false });
  assert.deepEqual(checkOrder(pipeline, "staging", "prod-us"), { skipped: false });
  assert.deepEqual(checkOrder(pipeline, "prod-us", "dr"), { skipped: false });
  assert.throws(() => checkOrder(pipeline, "prod-eu", "prod-us"), code("PROMOTE_ORDER", /its own stage production/));
  assert.throws(() => checkOrder(pipeline, "staging", "dr"), code("PROMOTE_ORDER"));
  assert.equal(sourceEnvironment(pipeline, "prod-us").path, "environments/prod-us");
  assert.throws(() => sourceEnvironment(pipeline, "production"), code("PROMOTE_SOURCE_SPLIT", /production has 3 targets/));
  assert.throws(() => destinationOf(pipeline, "prod"), code("PIPELINE_UNKNOWN_ENV"));
});
