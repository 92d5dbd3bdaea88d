/**
 * What the promoter does next with a release (pure): advance a setWeight step or a timed pause once the
 * step has been healthy long enough, retire the old slot after retireAfter, abort a candidate that failed
 * health. Its inputs are the release in git and the agent's report of the same step; it only ever
 * proposes a commit — the agent applies that commit like any other.
 */
import { parseDuration } from "../config/duration.js";
import type { Strategy } from "../config/pipeline.js";
import type { ReleaseStatus } from "../agent/environment.js";
import type { ReleaseState } from "./slots.js";
import { waitsForConfirmation } from "./strategy.js";

export interface LiveRelease {
  /** The agent's status.release for the revision it applied last. */
  release?: ReleaseStatus;
  ready: boolean;
  /** Ready=False because the health check failed or timed out (not: still rolling out, git error). */
  healthFailed: boolean;
  message?: string;
}

export type ReleaseDecision =
  | { action: "advance" | "retire" | "abort"; reason: string }
  | { action: "wait"; reason: string };

const sameImages = (a: Record<string, string> | undefined, b: Record<string, string> | undefined): boolean =>
  JSON.stringify(Object.entries(a ?? {}).sort()) === JSON.stringify(Object.entries(b ?? {}).sort());

export function decideRelease(strategy: Strategy, state: ReleaseState, live: LiveRelease, now: Date): ReleaseDecision {
  const reported = live.release;
  const step = state.step;
  // Act only on a report about exactly this step and candidate; otherwise the agent has not applied it yet.
  if (!reported || reported.step !== (step ? step.index + 1 : undefined) || !sameImages(reported.candidateImages, step ? state.pinnedImages : undefined)) {
    return { action: "wait", reason: "the agent has not reported this step yet" };
  }
  const healthyFor = reported.healthySince ? now.getTime() - Date.parse(reported.healthySince) : -1;
  if (step) {
    if (live.healthFailed) {
      return strategy.autoAbort === "off"
        ? { action: "wait", reason: `the candidate is unhealthy and autoAbort is off: ${live.message ?? ""}` }
        : { action: "abort", reason: `the candidate failed its health check: ${live.message ?? "not healthy"}` };
    }
    if (!live.ready || healthyFor < 0) return { action: "wait", reason: "the step is rolling out" };
    if (step.kind === "setWeight") return { action: "advance", reason: `weight ${step.weight}% is healthy` };
    if (waitsForConfirmation(step)) return { action: "wait", reason: "waits for baton confirm" };
    const pause = step.pauseMs ?? 0;
    return healthyFor >= pause
      ? { action: "advance", reason: `healthy at ${step.weight}% for the whole pause` }
      : { action: "wait", reason: `paused at ${step.weight}%: ${Math.ceil((pause - healthyFor) / 1000)}s to go` };
  }
  if (state.previousImages) {
    const retireMs = parseDuration(strategy.retireAfter ?? "0s") ?? 0;
    if (!live.ready || healthyFor < 0) return { action: "wait", reason: "the completed release is not healthy yet" };
    return healthyFor >= retireMs ? { action: "retire", reason: "retireAfter has passed" } : { action: "wait", reason: `the old slot is retired in ${Math.ceil((retireMs - healthyFor) / 1000)}s` };
  }
  return { action: "wait", reason: "steady" };
}
