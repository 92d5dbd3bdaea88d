/** The unified diff of planned file edits: what `--dry-run` prints and what a promotion PR shows. */
import { createTwoFilesPatch } from "diff";
import type { FileEdit } from "../config/edit.js";

const CONTEXT = 3;

/**
 * Digest edits replace text inside lines and never add or remove lines, so when both sides have the same
 * number of lines, comparing line i with line i is the exact diff, in linear time. (A general diff is
 * O(N·D) and takes minutes on a 20,000-line file where every line changed.)
 */
function sameShapePatch(file: string, before: string, after: string): string | undefined {
  const a = before.split("\n");
  const b = after.split("\n");
  if (a.length !== b.length) return undefined;
  const changed: number[] = [];
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) changed.push(i);
  if (changed.length === 0) return "";
  // The trailing "" after a final newline is not a line.
  const lines = before.endsWith("\n") ? a.length - 1 : a.length;
  const hunks: Array<[number, number]> = [];
  for (const i of changed) {
    const start = Math.max(0, i - CONTEXT);
    const end = Math.min(lines - 1, i + CONTEXT);
    const last = hunks[hunks.length - 1];
    if (last && start <= last[1] + 1) last[1] = end;
    else hunks.push([start, end]);
  }
  const out = [`--- a/${file}`, `+++ b/${file}`];
  for (const [start, end] of hunks) {
    const size = end - start + 1;
    out.push(`@@ -${start + 1},${size} +${start + 1},${size} @@`);
    const removed: string[] = [];
    const added: string[] = [];
    const flush = () => {
      out.push(...removed.map((l) => `-${l}`), ...added.map((l) => `+${l}`));
      removed.length = 0;
      added.length = 0;
    };
    for (let i = start; i <= end; i++) {
      if (a[i] === b[i]) {
        flush();
        out.push(` ${a[i]}`);
      } else {
        removed.push(a[i] ?? "");
        added.push(b[i] ?? "");
      }
    }
    flush();
  }
  return `${out.join("\n")}\n`;
}

export function unifiedDiff(edits: FileEdit[]): string {
  return edits.map((e) => sameShapePatch(e.file, e.before, e.after)
    ?? createTwoFilesPatch(`a/${e.file}`, `b/${e.file}`, e.before, e.after, "", "", { context: CONTEXT })
      // Drop the "=====" separator line and the empty timestamp tabs: plain `git diff`-style output.
      .replace(/^=+\n/, "").replace(/\t$/gm, "")).join("");
}

/** Counts of changed lines, for summaries of diffs too long to show. */
export function diffStats(diff: string): { files: number; added: number; removed: number } {
  let files = 0, added = 0, removed = 0;
  for (const line of diff.split("\n")) {
    if (line.startsWith("+++ ")) files++;
    else if (line.startsWith("+") && !line.startsWith("+++")) added++;
    else if (line.startsWith("-") && !line.startsWith("---")) removed++;
  }
  return { files, added, removed };
}
