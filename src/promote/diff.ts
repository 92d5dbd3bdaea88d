/** The unified diff of planned file edits: what `--dry-run` prints and what a promotion PR shows. */
import { createTwoFilesPatch } from "diff";
import type { FileEdit } from "../config/edit.js";

export function unifiedDiff(edits: FileEdit[]): string {
  return edits.map((e) => createTwoFilesPatch(`a/${e.file}`, `b/${e.file}`, e.before, e.after, "", "", { context: 3 })
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
