/** Promotion policy from baton.yaml that Baton enforces before any git or GitHub call. Pure. */
import { BatonError } from "../errors.js";
import { findEnvironment, firstEnvironment, PIPELINE_FILE, type Pipeline } from "../config/pipeline.js";

/** Refuses `from → to` unless `to.promoteFrom === from`, or the user skips the stage with a reason (recorded in the PR). */
export function checkOrder(pipeline: Pipeline, from: string, to: string, skip: { skipStage?: boolean; reason?: string } = {}): { skipped: boolean } {
  findEnvironment(pipeline, from);
  const target = findEnvironment(pipeline, to);
  if (from === to) throw new BatonError("PROMOTE_ORDER", `cannot promote ${from} into itself`, { hint: "name two different environments" });
  if (target.promoteFrom === from) return { skipped: false };
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
