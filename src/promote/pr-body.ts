/**
 * The promotion PR body: a table of what moves, the source, the diff. GitHub rejects bodies over 65,536
 * characters, so the diff is cut at a line boundary with a clear marker and the body stays under
 * MAX_BODY (60,000) whatever the change.
 */
import { imageShortName, shortDigest } from "../config/image-ref.js";
import type { PinChange } from "../config/edit.js";
import { diffStats } from "./diff.js";

export const MAX_BODY = 60_000;
export const TRUNCATION_MARKER = "[diff truncated by Baton";

export interface BodyInput {
  kind: "promotion" | "pin";
  from?: string;
  to: string;
  changes: PinChange[];
  diff: string;
  /** Short facts about the source environment (commit, since when it runs the digest…). */
  source?: string[];
  skipStageReason?: string;
  onlyInTarget?: string[];
  onlyInSource?: string[];
  /** Where the images come from (registry watch): one line per image. */
  provenance?: string[];
}

function cell(s: string | undefined): string {
  return (s ?? "-").replace(/\|/g, "\\|");
}

/** Cuts `text` to at most `max` characters at a line boundary, saying what was left out. */
export function truncateDiff(text: string, max: number): string {
  if (text.length <= max) return text;
  const stats = diffStats(text);
  const marker = `\n… ${TRUNCATION_MARKER}: ${text.length} characters, ${stats.files} file(s), +${stats.added}/-${stats.removed} lines in total; run the command with --dry-run to see all of it]\n`;
  const room = Math.max(0, max - marker.length);
  const cut = text.lastIndexOf("\n", room);
  return `${text.slice(0, cut > 0 ? cut : room)}${marker}`;
}

export function pullBody(input: BodyInput): string {
  const lines: string[] = [];
  lines.push(input.kind === "promotion"
    ? `Baton promotes **${input.from}** → **${input.to}**. Merging this PR deploys the change below to \`${input.to}\`.`
    : `Baton pins freshly built image(s) into **${input.to}**.`);
  lines.push("", "| Image | From digest | To digest | Tag |", "| --- | --- | --- | --- |");
  for (const c of input.changes) {
    lines.push(`| ${cell(imageShortName(c.repository))} (\`${cell(c.repository)}\`) | \`${shortDigest(c.from.digest)}\` | \`${shortDigest(c.to.digest)}\` | ${cell(c.to.tag ?? c.from.tag)} |`);
  }
  if (input.provenance && input.provenance.length > 0) lines.push("", "**Provenance (from the registry)**", ...input.provenance.map((s) => `- ${s}`));
  if (input.skipStageReason) lines.push("", `> **Stage skipped.** Reason given: ${input.skipStageReason}`);
  if (input.source && input.source.length > 0) lines.push("", `**Source (${input.from ?? input.to})**`, ...input.source.map((s) => `- ${s}`));
  if (input.onlyInSource && input.onlyInSource.length > 0) lines.push("", `Not promoted (${input.to} does not use them; add the workload to ${input.to} first): ${input.onlyInSource.map((r) => `\`${r}\``).join(", ")}`);
  if (input.onlyInTarget && input.onlyInTarget.length > 0) lines.push("", `Left unchanged (not in ${input.from}): ${input.onlyInTarget.map((r) => `\`${r}\``).join(", ")}`);
  lines.push("", "<details><summary>Full digests</summary>", "");
  for (const c of input.changes) lines.push(`- \`${c.repository}\`: \`${c.from.digest ?? "-"}\` → \`${c.to.digest ?? "-"}\``);
  lines.push("", "</details>", "");
  const head = lines.join("\n");
  const footer = "\n<!-- baton:promotion -->\n";
  const fence = (d: string) => `### Change to \`${input.to}\`\n\n\`\`\`diff\n${d}\`\`\`\n`;
  const room = MAX_BODY - head.length - footer.length - fence("").length - 1;
  return `${head}\n${fence(truncateDiff(input.diff.endsWith("\n") ? input.diff : `${input.diff}\n`, Math.max(0, room)))}${footer}`;
}
