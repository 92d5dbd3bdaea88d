/**
 * Hostile YAML benchmark: each of the worst 2 MiB files in hostile-cases.ts is parsed the way Baton parses
 * a file, in a fresh child process, which reports the CPU time, wall time and memory that parse cost
 * (peak RSS minus RSS before). Target: every case < 1 s of CPU and < 100 MB.
 */
import { execFile } from "node:child_process";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { HOSTILE_CASES } from "./hostile-cases.js";

const child = path.join(import.meta.dirname, "hostile-child.ts");

export async function hostileBench(): Promise<void> {
  console.log("hostile YAML: the worst 2 MiB files, parsed as Baton parses a file (fresh process each)");
  console.log(`  ${"case".padEnd(58)} ${"cpu".padStart(7)} ${"wall".padStart(7)} ${"memory".padStart(7)}  outcome`);
  let worstCpu = 0, worstMb = 0;
  for (const name of Object.keys(HOSTILE_CASES)) {
    const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", child, name], { maxBuffer: 1 << 20 });
    const r = JSON.parse(stdout) as { ms: number; cpuMs: number; mb: number; bytes: number; outcome: string; baselineMs: number };
    worstCpu = Math.max(worstCpu, r.cpuMs);
    worstMb = Math.max(worstMb, r.mb);
    console.log(`  ${name.padEnd(58)} ${`${Math.round(r.cpuMs)} ms`.padStart(7)} ${`${Math.round(r.ms)} ms`.padStart(7)} ${`${Math.round(r.mb)} MB`.padStart(7)}  ${r.outcome}`);
  }
  console.log(`  load average ${os.loadavg()[0]?.toFixed(1)} on ${os.availableParallelism()} cores (wall time grows with load; CPU time and memory much less)`);
  console.log(`  worst: ${Math.round(worstCpu)} ms CPU (target < 1000 ms: ${worstCpu < 1000 ? "met" : "NOT met"}), ${Math.round(worstMb)} MB (target < 100 MB: ${worstMb < 100 ? "met" : "NOT met"})`);
}
