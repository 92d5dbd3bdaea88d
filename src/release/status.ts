/**
 * The release part of the Environment status (pure): phase, weights, slots, and since when the current
 * step has been healthy — all derived from the applied revision, so the status never holds state git lacks.
 */
import type { NotifyEventType } from "../notify/format.js";
import type { ReleaseStatus } from "../agent/environment.js";
import { releasePhase } from "./describe.js";
import type { StrategyOutput } from "./slots.js";

export function releaseStatus(strategy: string, release: StrategyOutput, previous: ReleaseStatus | undefined, ready: boolean, now: Date): ReleaseStatus {
  const { state } = release;
  const phase = releasePhase(state);
  const out: ReleaseStatus = {
    phase, strategy, weight: state.weight, steps: state.steps.length, stableSlot: state.stableSlot, stableImages: state.stableImages,
    ...(state.step ? { step: state.step.index + 1, candidateImages: state.pinnedImages } : {}),
  };
  // The clock of a timed pause starts when this step was first seen healthy; a later revision of the same
  // step and candidate (e.g. a config change) keeps it; another step, candidate or a failed check resets it.
  if (ready) {
    const same = previous?.healthySince !== undefined && previous.step === out.step && previous.phase === phase
      && JSON.stringify(previous.candidateImages) === JSON.stringify(out.candidateImages);
    out.healthySince = same && previous?.healthySince ? previous.healthySince : now.toISOString();
  }
  return out;
}

export function releaseEvent(before: string | undefined, after: string): NotifyEventType | undefined {
  if (before === after) return undefined;
  if (after === "PendingConfirmation") return "release.pending";
  if (after === "Confirmed") return "release.confirmed";
  if (after === "Aborted") return "release.aborted";
  return undefined;
}

export function describeWeights(status: ReleaseStatus): string {
  return status.step ? `candidate ${status.weight}%, step ${status.step}/${status.steps}` : `all traffic on slot ${status.stableSlot}`;
}
