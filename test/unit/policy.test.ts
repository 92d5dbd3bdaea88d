import { test } from "node:test";
import assert from "node:assert/strict";
import { cronMatches, cronProblem, formatWindowTime, nextWindowOpen, windowDecision } from "../../src/policy/windows.js";
import { evaluatePolicy } from "../../src/policy/evaluate.js";
import { soakStart } from "../../src/policy/soak.js";
import type { PipelineEnvironment } from "../../src/config/pipeline.js";

const production: PipelineEnvironment = { name: "production", path: "environments/production", promoteFrom: "staging", soak: "1h", windows: ["* 9-16 * * 1-5"], autoPromote: false, prune: true, requireDigests: true, allowDirectPush: false };
const wednesdayNoon = new Date("2026-11-25T12:00:00Z");
const saturday = new Date("2026-11-28T12:00:00Z");

test("cron windows match minutes in the configured time zone", () => {
  assert.equal(cronMatches("* 9-16 * * 1-5", wednesdayNoon), true);
  assert.equal(cronMatches("* 9-16 * * 1-5", saturday), false);
  assert.equal(cronMatches("* 9-16 * * 1-5", new Date("2026-11-25T17:00:00Z")), false);
  // 12:00 UTC is 21:00 in Tokyo.
  assert.equal(cronMatches("* 9-16 * * 1-5", wednesdayNoon, "Asia/Tokyo"), false);
  assert.equal(cronMatches("* * * * 0", new Date("2026-11-29T10:00:00Z")), true, "Sunday as 0");
  assert.deepEqual(windowDecision(undefined, saturday), { open: true, reason: "no promotion windows configured" });
  assert.equal(nextWindowOpen(["* 9-16 * * 1-5"], saturday)?.toISOString(), "2026-11-30T09:00:00.000Z");
});

test("windows in other time zones, across DST, with L and #, from the maintained evaluator", () => {
  const berlin = { ...production, windows: ["* 9-16 * * 1-5"], timezone: "Europe/Berlin" };
  // Saturday 12:00 UTC; the Berlin window opens Monday 09:00 CET = 08:00 UTC.
  const r = evaluatePolicy({ target: berlin, source: "staging", sourceHealthySince: new Date(0), rejected: [], now: saturday });
  assert.match(r.description, /^promotion window opens Mon 2026-11-30 09:00 Europe\/Berlin;/);
  assert.equal(nextWindowOpen(berlin.windows, saturday, "Europe/Berlin")?.toISOString(), "2026-11-30T08:00:00.000Z");
  // Summer time: 09:00 in Berlin is 07:00 UTC on Monday 2026-06-01.
  assert.equal(nextWindowOpen(["0 9 * * 1"], new Date("2026-05-30T12:00:00Z"), "Europe/Berlin")?.toISOString(), "2026-06-01T07:00:00.000Z");
  // Last day of the month and the second Monday.
  assert.equal(cronMatches("* 10 L * *", new Date("2026-02-28T10:30:00Z")), true);
  assert.equal(cronMatches("* 10 L * *", new Date("2026-02-27T10:30:00Z")), false);
  assert.equal(nextWindowOpen(["0 9 * * 1#2"], new Date("2026-11-01T00:00:00Z"))?.toISOString(), "2026-11-09T09:00:00.000Z");
  assert.equal(formatWindowTime(new Date("2026-11-30T08:00:00Z"), "Asia/Shanghai"), "Mon 2026-11-30 16:00 Asia/Shanghai");
  assert.match(cronProblem("* 25 * * *") ?? "", /hour/);
  assert.match(cronProblem("0 0 9 * * *") ?? "", /5 parts/);
  assert.equal(cronProblem("*/15 9-16 * * 1-5"), undefined);
});

test("policy: success when in order, soaked and inside the window", () => {
  const r = evaluatePolicy({ target: production, source: "staging", sourceHealthySince: new Date(wednesdayNoon.getTime() - 2 * 3600_000), rejected: [], now: wednesdayNoon });
  assert.equal(r.state, "success");
  assert.ok(r.checks.every((c) => c.ok));
});

test("policy: pending while soaking or outside a window, with the reason", () => {
  const soaking = evaluatePolicy({ target: production, source: "staging", sourceHealthySince: new Date(wednesdayNoon.getTime() - 10 * 60_000), rejected: [], now: wednesdayNoon });
  assert.equal(soaking.state, "pending");
  assert.match(soaking.description, /soak needs 1h \(50m left\)/);
  const weekend = evaluatePolicy({ target: production, source: "staging", sourceHealthySince: new Date(0), rejected: [], now: saturday });
  assert.equal(weekend.state, "pending");
  assert.equal(weekend.description, 'promotion window opens Mon 2026-11-30 09:00 UTC; outside promotion windows "* 9-16 * * 1-5" (UTC)');
  assert.ok(weekend.description.length <= 140);
  const unhealthy = evaluatePolicy({ target: production, source: "staging", rejected: [], now: wednesdayNoon });
  assert.match(unhealthy.description, /not healthy/);
});

test("policy: out-of-order promotions and rejected digests fail unless the stage skip is recorded", () => {
  const skipped = evaluatePolicy({ target: production, source: "testing", sourceHealthySince: new Date(0), rejected: [], now: wednesdayNoon });
  assert.equal(skipped.state, "failure");
  const withReason = evaluatePolicy({ target: production, source: "testing", sourceHealthySince: new Date(0), rejected: [], now: wednesdayNoon, skipStage: { reason: "hotfix CVE-2026-1" } });
  assert.equal(withReason.state, "success");
  const rejected = evaluatePolicy({ target: production, source: "staging", sourceHealthySince: new Date(0), rejected: ["ghcr.io/acme/web@sha256:abc"], now: wednesdayNoon });
  assert.equal(rejected.state, "failure");
  assert.match(rejected.description, /unreject/);
});

test("soak chains consecutive successful deployments, also after auto_inactive marked the older ones inactive", () => {
  const at = (iso: string) => `2026-11-25T${iso}:00.000Z`;
  const ok = (t: string) => ({ state: "success" as const, createdAt: at(t), description: "" });
  const inactive = (t: string) => ({ state: "inactive" as const, createdAt: at(t), description: "" });
  const failed = (t: string) => ({ state: "failure" as const, createdAt: at(t), description: "" });
  // Newest first: 12:00 (running now), 11:00 (inactivated at 12:00 by GitHub), 10:00 (inactivated at 11:00).
  const chain = [
    { containsChange: true, statuses: [ok("12:00")] },
    { containsChange: true, statuses: [inactive("12:00"), ok("11:00")] },
    { containsChange: true, statuses: [inactive("11:00"), ok("10:00")] },
  ];
  assert.equal(soakStart(chain)?.toISOString(), at("10:00"));
  // A deployment without the change (an older pin) ends the chain.
  assert.equal(soakStart([chain[0], chain[1], { ...chain[2], containsChange: false }] as typeof chain)?.toISOString(), at("11:00"));
  // A failure in between ends it too; the running deployment must itself be successful now.
  assert.equal(soakStart([chain[0], { containsChange: true, statuses: [failed("11:30"), ok("11:00")] }] as typeof chain)?.toISOString(), at("12:00"));
  assert.equal(soakStart([{ containsChange: true, statuses: [inactive("12:00"), ok("11:00")] }]), undefined);
  assert.equal(soakStart([{ containsChange: true, statuses: [{ state: "in_progress", createdAt: at("12:00"), description: "" }] }]), undefined);
  assert.equal(soakStart([]), undefined);
});
