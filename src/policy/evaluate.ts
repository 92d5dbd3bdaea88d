/**
 * Promotion policy, pure: given the target's rules, the source's health history and the clock, may a
 * promotion merge now? The answer becomes the `baton/policy` commit status that branch protection requires.
 */
import { formatDuration, parseDuration } from "../config/duration.js";
import type { PipelineEnvironment } from "../config/pipeline.js";
import { formatWindowTime, nextWindowOpen, windowDecision } from "./windows.js";

export type PolicyState = "success" | "pending" | "failure";

export interface PolicyInput {
  target: PipelineEnvironment;
  source: string;
  /** When the source environment became healthy with the promoted digests (undefined: not healthy). */
  sourceHealthySince?: Date;
  /** Digests of the promotion that were rejected (rolled back) in the target. */
  rejected: string[];
  skipStage?: { reason: string };
  now: Date;
}

export interface PolicyResult {
  state: PolicyState;
  /** ≤ 140 characters: GitHub truncates commit status descriptions. */
  description: string;
  checks: Array<{ name: "order" | "rejected" | "soak" | "window"; ok: boolean; detail: string }>;
}

export function evaluatePolicy(input: PolicyInput): PolicyResult {
  const checks: PolicyResult["checks"] = [];
  const { target, now } = input;
  const inOrder = target.promoteFrom === undefined || target.promoteFrom === input.source;
  checks.push({ name: "order", ok: inOrder || input.skipStage !== undefined, detail: inOrder ? `${input.source} → ${target.name} follows the pipeline` : input.skipStage ? `stage skipped: ${input.skipStage.reason}` : `${target.name} promotes from ${target.promoteFrom}, not ${input.source}` });
  checks.push({ name: "rejected", ok: input.rejected.length === 0, detail: input.rejected.length === 0 ? "no rejected digests" : `rejected in ${target.name}: ${input.rejected.join(", ")} (baton unreject to allow)` });
  const soakMs = target.soak ? parseDuration(target.soak) ?? 0 : 0;
  if (soakMs === 0) checks.push({ name: "soak", ok: true, detail: "no soak required" });
  else if (!input.sourceHealthySince) checks.push({ name: "soak", ok: false, detail: `${input.source} is not healthy with these digests yet` });
  else {
    const healthyFor = now.getTime() - input.sourceHealthySince.getTime();
    checks.push({ name: "soak", ok: healthyFor >= soakMs, detail: healthyFor >= soakMs ? `healthy in ${input.source} for ${formatDuration(healthyFor)} (soak ${target.soak})` : `healthy in ${input.source} for ${formatDuration(Math.max(0, healthyFor))}; soak needs ${target.soak} (${formatDuration(soakMs - healthyFor)} left)` });
  }
  const timeZone = target.timezone ?? "UTC";
  const window = windowDecision(target.windows, now, timeZone);
  const next = !window.open && target.windows ? nextWindowOpen(target.windows, now, timeZone) : undefined;
  // Said first: the status description is cut at 140 characters, and "when" is what a waiting person needs.
  checks.push({ name: "window", ok: window.open, detail: window.open ? window.reason : next ? `promotion window opens ${formatWindowTime(next, timeZone)}; ${window.reason}` : window.reason });

  const hardFail = checks.find((c) => !c.ok && (c.name === "order" || c.name === "rejected"));
  const waiting = checks.find((c) => !c.ok);
  const state: PolicyState = hardFail ? "failure" : waiting ? "pending" : "success";
  const description = (hardFail ?? waiting)?.detail ?? "soak and window allow this promotion";
  return { state, description: description.length > 140 ? `${description.slice(0, 137)}...` : description, checks };
}
