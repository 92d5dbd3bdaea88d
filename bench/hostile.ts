/**
 * Hostile YAML benchmark: each of the worst 2 MiB files in hostile-cases.ts is parsed the way Baton parses
 * a file, in a fresh child process, which reports the time and the memory that parse cost (peak RSS
 * minus RSS before). Target: every case < 1 s and < 100 MB.
 */
import { execFile } from "node:child_process";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { HOSTILE_CASES } from "./hostile-cases.js";

const child = path.join(import.meta.dirname, "hostile-child.ts");

export async function hostileBench(): Promise<void> {
  console.log("hostile YAML: the worst 2 MiB files, parsed as Baton parses a file (fresh process each)");
  let worstMs = 0, worstMb = 0;
  for (const name of Object.keys(HOSTILE_CASES)) {
    const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", child, name], { maxBuffer: 1 << 20 });
    const r = JSON.parse(stdout) as { ms: number; mb: number; bytes: number; outcome: string; baselineMs: number };
    worstMs = Math.max(worstMs, r.ms);
    worstMb = Math.max(worstMb, r.mb);
    console.log(`  ${name.padEnd(52)} ${String(Math.round(r.ms)).padStart(5)} ms ${String(Math.round(r.mb)).padStart(4)} MB ${(r.ms / r.baselineMs).toFixed(0).padStart(4)}x JSON.parse  ${r.outcome}`);
  }
  console.log(`  load average ${os.loadavg()[0]?.toFixed(1)} on ${os.availableParallelism()} cores (timings scale with load; the JSON.parse ratios and MB do not)`);
  console.log(`  worst: ${Math.round(worstMs)} ms (target < 1000 ms: ${worstMs < 1000 ? "met" : "NOT met"}), ${Math.round(worstMb)} MB (target < 100 MB: ${worstMb < 100 ? "met" : "NOT met"})`);
}
