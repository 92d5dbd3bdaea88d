/**
 * How release.yaml moves (pure): every transition is a new file content, committed by a Baton command
 * (promote, confirm, abort) or by the promoter, so each step of a release is a commit in git.
 */
import { BatonError } from "../errors.js";
import { parseDuration } from "../config/duration.js";
import { PIPELINE_API_VERSION, type Strategy } from "../config/pipeline.js";
import { RELEASE_KIND, type Release } from "./release.js";
import type { ReleaseState } from "./slots.js";

const base = (state: ReleaseState): Pick<Release, "apiVersion" | "kind" | "stable"> => ({
  apiVersion: PIPELINE_API_VERSION, kind: RELEASE_KIND, stable: { slot: state.stableSlot, images: { ...state.stableImages } },
});

const sameImages = (a: Record<string, string>, b: Record<string, string>): boolean =>
  Object.keys(a).length === Object.keys(b).length && Object.entries(a).every(([k, v]) => b[k] === v);

/**
 * After a promotion (or pin) moves `changed` digests into a strategy environment: a release starts at
 * step 0 with the current stable slot and digests. An unretired old slot is given up (the candidate needs
 * it); promoting the stable digests back is steady state again. Undefined when the route's images do not move.
 */
export function afterPromotion(state: ReleaseState, changed: Record<string, string>): Release | undefined {
  const moving = Object.entries(changed).filter(([repo]) => repo in state.pinnedImages);
  if (moving.length === 0) return undefined;
  const pinned = { ...state.pinnedImages, ...Object.fromEntries(moving) };
  if (sameImages(pinned, state.stableImages)) return { ...base(state), ...(state.outcome ? { outcome: state.outcome } : {}) };
  return { ...base(state), step: 0 };
}

export interface Transition {
  release: Release;
  /** What the commit does, for titles and messages. */
  summary: string;
  complete: boolean;
}

function nothing(env: string, what: string): BatonError {
  return new BatonError("RELEASE_NOTHING", `${env} has no release in progress to ${what}`, { hint: `baton status shows each environment's phase; a release starts with baton promote` });
}

/** The next step, or with `all` (or from the last step) completion: the candidate becomes stable. */
export function confirm(env: string, strategy: Strategy, state: ReleaseState, all = false): Transition {
  const step = state.step;
  if (!step) throw nothing(env, "confirm");
  const next = all ? state.steps.length : step.index + 1;
  if (next < state.steps.length) {
    const weight = state.steps[next]?.weight ?? state.weight;
    return { release: { ...base(state), step: next }, summary: `step ${next + 1}/${state.steps.length} (weight ${weight}%)`, complete: false };
  }
  // retireAfter keeps the old slot at full size for that long (the promoter retires it); without it, at once.
  const keepOld = (parseDuration(strategy.retireAfter ?? "0s") ?? 0) > 0;
  return {
    release: {
      apiVersion: PIPELINE_API_VERSION, kind: RELEASE_KIND, stable: { slot: state.candidateSlot, images: { ...state.pinnedImages } },
      ...(keepOld ? { previous: { images: { ...state.stableImages } } } : {}), outcome: "Confirmed",
    },
    summary: "complete: all traffic on the new version",
    complete: true,
  };
}

/** Back to stable: the pins return to stable.images (the caller edits them) and the candidate's digests are rejected. */
export function abort(env: string, state: ReleaseState): Transition & { restore: Record<string, string>; rejected: Record<string, string> } {
  if (!state.step) throw nothing(env, "abort");
  const rejected = Object.fromEntries(Object.entries(state.pinnedImages).filter(([repo, digest]) => state.stableImages[repo] !== digest));
  return { release: { ...base(state), outcome: "Aborted" }, summary: "aborted: all traffic back on stable", complete: true, restore: { ...state.stableImages }, rejected };
}

/** The old slot of a completed release goes to zero replicas. */
export function retire(env: string, state: ReleaseState): Transition {
  if (state.step || !state.previousImages) throw new BatonError("RELEASE_NOTHING", `${env} has no old slot to retire`, { hint: "the old slot is kept only after a release completed with retireAfter" });
  return { release: { ...base(state), ...(state.outcome ? { outcome: state.outcome } : {}) }, summary: `retire slot ${state.candidateSlot}`, complete: true };
}

/**
 * `baton rollback` in a strategy environment: the reverted pins (`restored`, repository → digest) become
 * stable at once, and a release in progress ends as Aborted. When the old slot of a completed release
 * still runs exactly those digests, traffic flips back to it (nothing rolls out); otherwise the stable slot
 * rolls to them in place, so traffic never moves to a slot that has no ready Pods.
 */
export function afterRollback(state: ReleaseState, restored: Record<string, string>): Release {
  const images = Object.fromEntries(Object.entries(state.stableImages).map(([repo, digest]) => [repo, restored[repo] ?? digest]));
  const flip = !state.step && state.previousImages !== undefined && sameImages(state.previousImages, images);
  return {
    apiVersion: PIPELINE_API_VERSION, kind: RELEASE_KIND, stable: { slot: flip ? state.candidateSlot : state.stableSlot, images },
    ...(state.step ? { outcome: "Aborted" as const } : {}),
  };
}
