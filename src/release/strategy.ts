/**
 * A strategy's steps as Baton reads them (pure). blueGreen has one implicit step: the candidate runs
 * at full size with weight 0 and waits for `baton confirm`. A canary moves through its `steps`; the
 * weight at step k is the last setWeight at or before k. Past the last step the candidate becomes stable.
 */
import { BatonError } from "../errors.js";
import { parseDuration } from "../config/duration.js";
import type { PipelineEnvironment, Strategy, StrategyStep } from "../config/pipeline.js";

export interface StepView {
  index: number;
  /** The candidate's share of traffic (percent) while this step is current. */
  weight: number;
  /** setWeight: the promoter advances once healthy; pause: waits (timed) or needs `baton confirm` (untimed). */
  kind: "setWeight" | "pause";
  /** Timed pauses only. */
  pauseMs?: number;
}

export function strategySteps(strategy: Strategy): StepView[] {
  if (strategy.type === "blueGreen") return [{ index: 0, weight: 0, kind: "pause" }];
  let weight = 0;
  return (strategy.steps ?? []).map((step, index) => {
    if ("setWeight" in step) {
      weight = step.setWeight;
      return { index, weight, kind: "setWeight" };
    }
    const text = typeof step.pause === "string" ? step.pause : step.pause.duration;
    const pauseMs = text === undefined ? undefined : parseDuration(text);
    return { index, weight, kind: "pause", ...(pauseMs === undefined ? {} : { pauseMs }) };
  });
}

/** A step that only a person can end: an untimed pause. */
export const waitsForConfirmation = (step: StepView): boolean => step.kind === "pause" && step.pauseMs === undefined;

const isWeight = (s: StrategyStep): s is { setWeight: number } => "setWeight" in s;

/** Cross-field rules zod cannot express; every problem names its field. */
export function checkStrategy(env: PipelineEnvironment, index: number, file: string): BatonError[] {
  const strategy = env.strategy;
  if (!strategy) return [];
  const at = `environments[${index}].strategy`;
  const problem = (field: string, message: string, hint: string) =>
    new BatonError("PIPELINE_STRATEGY", `${field.slice(field.indexOf("strategy"))} ${message}`, { file, field, hint });
  const errors: BatonError[] = [];
  if (strategy.type === "blueGreen" && strategy.steps !== undefined) {
    errors.push(problem(`${at}.steps`, "is not used by blueGreen (it always runs: weight 0, pending confirmation, all traffic)", "remove steps, or use type: canary"));
  }
  if (strategy.type === "canary") {
    const steps = strategy.steps ?? [];
    if (!steps.some(isWeight)) {
      errors.push(problem(`${at}.steps`, "of a canary needs at least one setWeight", "list steps, e.g. [{setWeight: 10}, {pause: 10m}, {setWeight: 50}, {pause: {}}]"));
    }
    let last = 0;
    steps.forEach((step, k) => {
      if (!isWeight(step)) return;
      if (step.setWeight <= last) {
        errors.push(problem(`${at}.steps[${k}].setWeight`, `is ${step.setWeight} but an earlier step already set ${last}; weights must increase`, "order the steps by increasing weight; to go back, run baton abort"));
      }
      last = Math.max(last, step.setWeight);
    });
  }
  if (strategy.abTest && strategy.router === "service") {
    errors.push(problem(`${at}.abTest`, "needs router: gatewayAPI (a Service cannot route by header)", "set router: gatewayAPI with an HTTPRoute, or remove abTest"));
  }
  if (strategy.autoAbort === "push" && !env.allowDirectPush) {
    errors.push(problem(`${at}.autoAbort`, "is push but the environment does not allow direct pushes", "set allowDirectPush: true, or autoAbort: pr"));
  }
  return errors;
}
