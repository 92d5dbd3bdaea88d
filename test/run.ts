/**
 * The test runner behind `npm test`: unit tests first, then integration tests against one shared
 * control plane (etcd + kube-apiserver + controller-manager + scheduler + kwok) started here and
 * torn down at the end, also on failure or Ctrl-C. Prints one closing line: `N passed, N failed`.
 */
import { spawn } from "node:child_process";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { machineLock } from "./support/machine-lock.js";

const root = path.resolve(import.meta.dirname, "..");
const mode = process.argv[2] ?? "all";

async function findTests(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await fs.readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await findTests(full)));
    else if (entry.name.endsWith(".test.ts")) out.push(full);
  }
  // BATON_TEST_ONLY=substring[,substring…] runs only the matching test files (for working on one area).
  const only = process.env.BATON_TEST_ONLY?.split(",").filter(Boolean);
  // The image test runs last: its image builds in the background meanwhile (see startImageBuild).
  const last = (f: string) => (path.basename(f) === "image.test.ts" ? 1 : 0);
  return out.filter((f) => !only || only.some((o) => f.includes(o))).sort((a, b) => last(a) - last(b) || a.localeCompare(b));
}

interface Counts { pass: number; fail: number }

/**
 * Whether a test file uses the control plane: it imports, directly or through test/support modules, the
 * module that starts it (cluster.ts) or hands out its kubeconfig (testenv.ts). The other integration files
 * (git server, GitHub stand-in, kustomize) run in a second lane beside the cluster files: those mostly wait on
 * the fake kubelet and intervals, so the two lanes share 2 cores without starving each other.
 */
async function usesCluster(file: string, seen = new Set<string>()): Promise<boolean> {
  if (seen.has(file)) return false;
  seen.add(file);
  if (/\/support\/(cluster|testenv)\.ts$/.test(file)) return true;
  const text = await fs.readFile(file, "utf8").catch(() => "");
  for (const m of text.matchAll(/from "(\.{1,2}\/[^"]+)\.js"/g)) {
    const target = path.resolve(path.dirname(file), `${m[1]}.ts`);
    if (target.startsWith(path.join(root, "test")) && (await usesCluster(target, seen))) return true;
  }
  return false;
}

/**
 * A cluster file that waits on no Pod rolling out (kwok's fake kubelet) may share the control plane with other
 * files; it says so with this line, and runs in the second lane. The files that do wait on rollouts stay one
 * at a time: a starved fake kubelet makes rollouts slow enough to look like failures.
 */
const SHARES_CLUSTER = /^\/\/ test-lane: shares-cluster$/m;

async function runNodeTests(files: string[], env: NodeJS.ProcessEnv, concurrency: number, timeoutMs: number): Promise<Counts> {
  if (files.length === 0) return { pass: 0, fail: 0 };
  const tap = path.join(await fs.mkdtemp(path.join(os.tmpdir(), "baton-tap-")), "out.tap");
  // A per-test timeout: a hung test fails alone instead of holding CI until its limit.
  const args = ["--import", "tsx", "--test", `--test-concurrency=${concurrency}`, `--test-timeout=${timeoutMs}`,
    "--test-reporter=spec", "--test-reporter-destination=stdout",
    "--test-reporter=tap", `--test-reporter-destination=${tap}`, ...files];
  const code = await new Promise<number>((resolve) => {
    const child = spawn(process.execPath, args, { stdio: "inherit", env, cwd: root });
    child.on("exit", (c) => resolve(c ?? 1));
  });
  const text = await fs.readFile(tap, "utf8").catch(() => "");
  const num = (name: string) => Number(/^# (\w+) (\d+)$/m.test(text) ? (text.match(new RegExp(`^# ${name} (\\d+)$`, "m"))?.[1] ?? 0) : 0);
  const counts = { pass: num("pass"), fail: num("fail") + num("cancelled") };
  if (code !== 0 && counts.fail === 0) counts.fail = 1; // the runner itself failed (syntax error, crash)
  return counts;
}

/**
 * The container image test needs the image, and a cold build (Debian bases, npm ci) takes longer than one
 * test may: the runner starts it in the background and the test waits for its result file.
 */
async function startImageBuild(files: string[]): Promise<{ env: Record<string, string>; done: Promise<void> }> {
  if (!files.some((f) => path.basename(f) === "image.test.ts")) return { env: {}, done: Promise.resolve() };
  const { buildImageInBackground } = await import("./support/image.js");
  const resultFile = path.join(await fs.mkdtemp(path.join(os.tmpdir(), "baton-image-")), "result.json");
  return { env: { BATON_TEST_IMAGE_RESULT: resultFile }, done: buildImageInBackground(resultFile) };
}

// GitHub asks for ~1 s between writes; the stand-in has no such limit (tests switch its secondary rate
// limit on explicitly), so test processes send writes without spacing.
process.env.BATON_GITHUB_WRITE_INTERVAL_MS ??= "0";

async function main(): Promise<number> {
  const total: Counts = { pass: 0, fail: 0 };
  const add = (c: Counts) => { total.pass += c.pass; total.fail += c.fail; };
  if (mode === "unit" || mode === "all") {
    add(await runNodeTests(await findTests(path.join(root, "test/unit")), process.env, os.availableParallelism(), 60_000));
  }
  if (mode === "integration" || mode === "all") {
    const files = await findTests(path.join(root, "test/integration"));
    if (files.length > 0) {
      const image = await startImageBuild(files);
      const waitStart = Date.now();
      const unlock = await machineLock();
      if (Date.now() - waitStart > 1000) process.stderr.write(`[test] waited ${Math.round((Date.now() - waitStart) / 1000)}s for another integration run on this machine\n`);
      const { startTestEnvironment } = await import("./support/testenv.js");
      const testenv = await startTestEnvironment();
      try {
        // One cluster file at a time: the control plane, kwok and the tests share 2 cores. Files without the
        // cluster (or sharing it, see SHARES_CLUSTER) run beside them, two at a time: they mostly wait on git and
        // node processes they spawn (measured: the no-cluster files alone used two thirds of one core).
        const env = { ...process.env, ...testenv.env, ...image.env };
        const lanes = await Promise.all(files.map(async (f) => ({ f, cluster: (await usesCluster(f)) && !SHARES_CLUSTER.test(await fs.readFile(f, "utf8")) })));
        // Each lane's wall time is printed: the longer one is what `npm test` costs beyond the unit tests.
        const lane = async (name: string, cluster: boolean, concurrency: number) => {
          const started = Date.now();
          const counts = await runNodeTests(lanes.filter((l) => l.cluster === cluster).map((l) => l.f), env, concurrency, 240_000);
          process.stderr.write(`[test] ${name} lane: ${Math.round((Date.now() - started) / 1000)} s\n`);
          return counts;
        };
        const counts = await Promise.all([lane("cluster", true, 1), lane("beside", false, 2)]);
        counts.forEach(add);
        await image.done;
      } finally {
        await testenv.stop();
        unlock();
      }
    }
  }
  console.log(`\n${mode}: ${total.pass} passed, ${total.fail} failed`);
  return total.fail === 0 && total.pass > 0 ? 0 : 1;
}

process.exitCode = await main();
