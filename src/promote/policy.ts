/** Promotion policy from baton.yaml that Baton enforces before any git or GitHub call. Pure. */
import { BatonError } from "../errors.js";
import { findEnvironment, firstEnvironment, PIPELINE_FILE, stageOf, type Pipeline } from "../config/pipeline.js";
import { destinationOf } from "./waves.js";

/**
 * Refuses `from → to` unless `to` (a stage, or a target of one) promotes from `from` (or from the stage `from`
 * is a target of), or the user skips the stage with a reason (recorded in the PR).
 */
export function checkOrder(pipeline: Pipeline, from: string, to: string, skip: { skipStage?: boolean; reason?: string } = {}): { skipped: boolean } {
  const source = destinationOf(pipeline, from);
  const target = destinationOf(pipeline, to).stage;
  if (from === to || source.stage.name === target.name) throw new BatonError("PROMOTE_ORDER", `cannot promote ${from} into ${from === to ? "itself" : `its own stage ${target.name}`}`, { hint: "name two different environments" });
  if (target.promoteFrom !== undefined && (target.promoteFrom === from || stageOf(pipeline, target.promoteFrom)?.name === source.stage.name)) return { skipped: false };
  const expected = target.promoteFrom ? `${to} is promoted from ${target.promoteFrom}` : `${to} is the first environment (images are pinned into it, not promoted)`;
  if (!skip.skipStage) {
    throw new BatonError("PROMOTE_ORDER", `${from} → ${to} skips the pipeline order: ${expected}`, {
      file: PIPELINE_FILE, field: `environments.${to}.promoteFrom`,
      hint: target.promoteFrom ? `promote ${target.promoteFrom} ${to}, or pass --skip-stage --reason "why" (recorded in the PR)` : `use baton pin ${to} …`,
    });
  }
  if (!skip.reason || !skip.reason.trim()) {
    throw new BatonError("USAGE", "--skip-stage needs --reason", { field: "--reason", hint: "say why the stage is skipped; the reason is recorded in the PR and the commit" });
  }
  return { skipped: true };
}

/** Direct pushes (pin --commit, rollback --push) go to the first environment or where `allowDirectPush` is set. */
export function directPushAllowed(pipeline: Pipeline, env: string): boolean {
  return findEnvironment(pipeline, env).allowDirectPush || firstEnvironment(pipeline).name === env;
}

export function checkDirectPush(pipeline: Pipeline, env: string, flag: string): void {
  if (directPushAllowed(pipeline, env)) return;
  throw new BatonError("PROMOTE_DIRECT_PUSH", `${env} does not allow direct pushes (${flag})`, {
    file: PIPELINE_FILE, field: `environments.${env}.allowDirectPush`, hint: `open a pull request instead (drop ${flag}), or set allowDirectPush: true for ${env}`,
  });
}
