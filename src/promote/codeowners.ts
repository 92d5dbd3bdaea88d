/**
 * CODEOWNERS from baton.yaml's `approvers`: one rule per environment folder, so GitHub's required reviews
 * become the "manual gate by role" for promotions into that environment.
 */
import type { Pipeline } from "../config/pipeline.js";

export const CODEOWNERS_BEGIN = "# BEGIN baton (generated from baton.yaml by `baton codeowners`; do not edit)";
export const CODEOWNERS_END = "# END baton";

export function codeownersBlock(pipeline: Pipeline): string {
  const lines = [CODEOWNERS_BEGIN];
  for (const env of pipeline.environments) {
    if (!env.approvers || env.approvers.length === 0) continue;
    const folder = `/${env.path.replace(/^\.?\/+/, "").replace(/\/+$/, "")}/`;
    lines.push(`${folder} ${env.approvers.join(" ")}`);
  }
  lines.push(CODEOWNERS_END);
  return `${lines.join("\n")}\n`;
}
