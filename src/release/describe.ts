/**
 * The phase of a release and its one-line description (pure): what `baton status`, `baton render`, the
 * Environment status and notifications say. Everything here is derived from git (baton.yaml + release.yaml
 * + the pins), so every reader sees the same phase for the same commit.
 */
import { formatDuration } from "../config/duration.js";
import { shortDigest } from "../config/image-ref.js";
import type { Strategy } from "../config/pipeline.js";
import type { ReleaseState } from "./slots.js";
import { waitsForConfirmation } from "./strategy.js";

/** Stable: no release yet; Progressing: a setWeight step; Paused N%: a timed pause or an untimed one above 0. */
export type ReleasePhase = "Stable" | "Progressing" | "PendingConfirmation" | `Paused ${number}%` | "Confirmed" | "Aborted";

export function releasePhase(state: ReleaseState): ReleasePhase {
  const step = state.step;
  if (!step) return state.outcome ?? "Stable";
  if (step.kind === "setWeight") return "Progressing";
  if (waitsForConfirmation(step) && step.weight === 0) return "PendingConfirmation";
  return `Paused ${step.weight}%`;
}

/** What happens next, in words. */
export function nextAction(state: ReleaseState): string {
  const step = state.step;
  if (!step) return state.previousImages ? "the old slot is retired after retireAfter (or by the promoter at once)" : "promote a new digest to start a release";
  const last = step.index === state.steps.length - 1;
  // Steps are numbered from 1 where people read them (status: "step 1/2"): the next one is index + 2.
  if (step.kind === "setWeight") return `the promoter moves to ${last ? "completion" : `step ${step.index + 2}`} once the candidate is healthy`;
  if (waitsForConfirmation(step)) return `waits for baton confirm (or baton abort)`;
  return `the promoter advances after ${formatDuration(step.pauseMs ?? 0)} healthy (or baton confirm)`;
}

const imagesText = (images: Record<string, string>): string => Object.entries(images).map(([r, d]) => `${r}@${shortDigest(d)}`).join(", ");

export function describeRelease(strategy: Strategy | undefined, state: ReleaseState): string[] {
  if (!strategy) return [];
  const lines = [
    `release: ${strategy.type} on the ${strategy.router} router, route ${strategy.route}; phase ${releasePhase(state)}`,
    `stable slot ${state.stableSlot}: ${imagesText(state.stableImages)} (weight ${100 - state.weight}%)`,
  ];
  if (state.step) {
    lines.push(`candidate slot ${state.candidateSlot}: ${imagesText(state.pinnedImages)} (weight ${state.weight}%${strategy.abTest ? `, and every request with ${strategy.abTest.header}: ${strategy.abTest.value}` : ""})`);
    lines.push(`step ${state.step.index + 1}/${state.steps.length}: ${nextAction(state)}`);
  } else if (state.previousImages) {
    lines.push(`old slot ${state.candidateSlot}: ${imagesText(state.previousImages)} (weight 0%, not retired yet)`);
  }
  lines.push("release.yaml is read by the renderer and never applied");
  return lines;
}
