/**
 * Rendering benchmark: 2,000 objects from a plain folder. Baseline, measured in the same run: reading the
 * same files and parsing them with the `yaml` package alone (no validation, identity, pins).
 */
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseAllDocuments } from "yaml";
import { renderEnvironment } from "../src/config/render.js";
import { readPins } from "../src/config/pins.js";
import { writeApps } from "./fixtures.js";

async function time<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const start = process.hrtime.bigint();
  const value = await fn();
  return [Number(process.hrtime.bigint() - start) / 1e6, value];
}

export async function renderBench(): Promise<void> {
  const repo = await fs.mkdtemp(path.join(os.tmpdir(), "baton-bench-render-"));
  const count = await writeApps(path.join(repo, "environments/bench"), 500);
  const env = { name: "bench", path: "environments/bench", namespace: "bench", autoPromote: false, prune: true, requireDigests: true, allowDirectPush: false };
  // Warm up the JIT and the file cache once for both contenders.
  await renderEnvironment(repo, env);
  const runs = 5;
  let baton = Infinity, baseline = Infinity;
  for (let i = 0; i < runs; i++) {
    const [ms, rendered] = await time(async () => {
      const r = await renderEnvironment(repo, env);
      readPins(r.objects, env);
      return r;
    });
    if (rendered.objects.length !== count) throw new Error(`rendered ${rendered.objects.length}, expected ${count}`);
    baton = Math.min(baton, ms);
    const [baseMs] = await time(async () => {
      const dir = path.join(repo, "environments/bench");
      let docs = 0;
      for (const f of (await fs.readdir(dir)).sort()) docs += parseAllDocuments(await fs.readFile(path.join(dir, f), "utf8")).length;
      return docs;
    });
    baseline = Math.min(baseline, baseMs);
  }
  console.log(`render: ${count} objects from a plain folder (best of ${runs})`);
  console.log(`  baton render + pins   ${baton.toFixed(0)} ms   (target < 1000 ms: ${baton < 1000 ? "met" : "MISSED"})`);
  console.log(`  baseline yaml parse   ${baseline.toFixed(0)} ms`);
  console.log(`  ratio baton/baseline  ${(baton / baseline).toFixed(2)}x`);
  await fs.rm(repo, { recursive: true, force: true });
}
