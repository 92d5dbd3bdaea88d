/**
 * The test runner behind `npm test`: type-check and lint, unit tests, and integration tests against one shared
 * control plane (etcd + kube-apiserver + controller-manager + scheduler + kwok), side by side; the control
 * plane is started here and torn down at the end, also on failure or Ctrl-C. Prints one closing line: `N passed, N failed`.
 */
import { spawn } from "node:child_process";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { compileRepo, type CompiledTree } from "./support/compile-repo.js";
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

/** The repository compiled for this run (test/support/compile-repo.ts); undefined under BATON_TEST_TSX=1. */
let compiledTree: CompiledTree | undefined;

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
  // A time limit per test FILE (node 20 applies --test-timeout to each file's process as a whole): a hung file
  // fails alone instead of holding CI until its limit. Generous: files run side by side on a loaded machine.
  // BATON_TEST_NODE_ARGS adds node flags to every test file's process, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"
  // (node refuses --cpu-prof in NODE_OPTIONS); the runner hands its own flags down to the files it starts.
  const extra = process.env.BATON_TEST_NODE_ARGS?.split(" ").filter(Boolean) ?? [];
  const loader = compiledTree ? [] : ["--import", "tsx"];
  const args = [...extra, "--import", path.join(root, "test/support/test-runner-hooks.mjs"), ...loader, "--test", `--test-concurrency=${concurrency}`, `--test-timeout=${timeoutMs}`,
    "--test-reporter=spec", "--test-reporter-destination=stdout",
    "--test-reporter=tap", `--test-reporter-destination=${tap}`,
    `--test-reporter=${path.join(root, "test/support/file-times-reporter.mjs")}`, `--test-reporter-destination=${tap}.times`, ...files.map((f) => compiledTree?.compiled(f) ?? f)];
  const code = await new Promise<number>((resolve) => {
    const child = spawn(process.execPath, args, { stdio: "inherit", env, cwd: root });
    child.on("exit", (c) => resolve(c ?? 1));
  });
  const text = await fs.readFile(tap, "utf8").catch(() => "");
  const num = (name: string) => Number(/^# (\w+) (\d+)$/m.test(text) ? (text.match(new RegExp(`^# ${name} (\\d+)$`, "m"))?.[1] ?? 0) : 0);
  const counts = { pass: num("pass"), fail: num("fail") + num("cancelled") };
  if (code !== 0 && counts.fail === 0) counts.fail = 1; // the runner itself failed (syntax error, crash)
  const times = (await fs.readFile(`${tap}.times`, "utf8").catch(() => "")).split("\n").filter(Boolean)
    .map((line) => ({ s: Number(line.split(" ")[0]), file: path.relative(root, line.slice(line.indexOf(" ") + 1)) }))
    .sort((a, b) => b.s - a.s);
  if (files.length > 1 && times.length > 0) {
    process.stderr.write(`[test] slowest files: ${times.slice(0, 8).map((t) => `${path.basename(t.file).replace(/\.test\.[jt]s$/, "")} ${Math.round(t.s)} s`).join(", ")}\n`);
  }
  await fs.rm(path.dirname(tap), { recursive: true, force: true });
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

// Every git commit, fetch, merge and pull ends by starting `git maintenance run --auto`, one more process
// (of the ~14,000 git processes in a run) that finds nothing to do in a test repository. Git reads this
// config from the environment of every git the tests start, directly or through Baton's code.
if (process.env.GIT_CONFIG_COUNT === undefined) {
  Object.assign(process.env, { GIT_CONFIG_COUNT: "2", GIT_CONFIG_KEY_0: "maintenance.auto", GIT_CONFIG_VALUE_0: "false", GIT_CONFIG_KEY_1: "gc.auto", GIT_CONFIG_VALUE_1: "0" });
}

/**
 * `npm test` type-checks and lints beside the tests (tsc and eslint are each single-threaded); a type or lint
 * error fails the run like a failed test.
 */
async function staticChecks(): Promise<Counts> {
  const run = (script: string) => new Promise<boolean>((resolve) => {
    const child = spawn("npm", ["run", "--silent", script], { stdio: "inherit", cwd: root });
    child.on("exit", (code) => resolve(code === 0));
  });
  const failed = (await Promise.all([run("typecheck"), run("lint")])).filter((ok) => !ok).length;
  if (failed > 0) process.stderr.write("[test] the type-check or lint failed: see above\n");
  return { pass: 0, fail: failed };
}

async function unitTests(concurrency: number): Promise<Counts> {
  return runNodeTests(await findTests(path.join(root, "test/unit")), process.env, concurrency, 180_000);
}

async function integrationTests(): Promise<Counts> {
  const files = await findTests(path.join(root, "test/integration"));
  if (files.length === 0) return { pass: 0, fail: 0 };
  const image = await startImageBuild(files);
  // The CLI the integration files spawn, compiled for the run (see test/support/cli.ts).
  if (compiledTree) process.env.BATON_TEST_CLI ??= compiledTree.cli;
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
    // Each lane's wall time is printed: the longer one is what `npm test` costs.
    const lane = async (name: string, cluster: boolean, concurrency: number) => {
      const started = Date.now();
      const counts = await runNodeTests(lanes.filter((l) => l.cluster === cluster).map((l) => l.f), env, concurrency, 480_000);
      process.stderr.write(`[test] ${name} lane: ${Math.round((Date.now() - started) / 1000)} s\n`);
      return counts;
    };
    const counts = await Promise.all([lane("cluster", true, 1), lane("beside", false, 2)]);
    await image.done;
    return { pass: counts[0].pass + counts[1].pass, fail: counts[0].fail + counts[1].fail };
  } finally {
    await testenv.stop();
    unlock();
  }
}

/**
 * Every run gets a temp dir of its own (TMPDIR for the runner and every test process), removed at the end:
 * whatever a test leaves behind goes with it. tsx's transform cache stays shared across runs through a
 * link (it lives at <tmpdir>/tsx-<uid>; a cold one costs ~0.3 s of CPU per process). Screenshots and logs
 * meant to outlive the run go to test/support/artifacts.ts's directory, which is outside.
 */
async function runTempDir(): Promise<{ dir: string; remove: () => Promise<void> }> {
  const shared = os.tmpdir();
  process.env.BATON_TEST_ARTIFACTS ??= path.join(shared, "baton-test-artifacts");
  const dir = await fs.mkdtemp(path.join(shared, "baton-test-run-"));
  const tsxCache = `tsx-${os.userInfo().uid}`;
  await fs.mkdir(path.join(shared, tsxCache), { recursive: true });
  await fs.symlink(path.join(shared, tsxCache), path.join(dir, tsxCache));
  process.env.TMPDIR = dir;
  return { dir, remove: () => fs.rm(dir, { recursive: true, force: true }) };
}

async function main(): Promise<number> {
  const started = Date.now();
  const tmp = await runTempDir();
  if (process.env.BATON_TEST_TSX !== "1") compiledTree = await compileRepo(root, path.join(tmp.dir, "compiled"));
  // Everything at once under `npm test`: the integration lanes spend much of their time waiting (rollouts,
  // intervals, the fake kubelet), and the checks and unit tests fill those gaps; one after the other, the
  // machine sat a fifth idle. The cluster lane is the longest path, so it starts first.
  const runs: Array<Promise<Counts>> = [];
  if (mode === "integration" || mode === "all") runs.push(integrationTests());
  if (mode === "all") runs.push(staticChecks());
  if (mode === "unit" || mode === "all") runs.push(unitTests(mode === "all" ? 1 : os.availableParallelism()));
  const results = await Promise.all(runs).finally(() => tmp.remove());
  const total = results.reduce((a, c) => ({ pass: a.pass + c.pass, fail: a.fail + c.fail }), { pass: 0, fail: 0 });
  if (mode === "all") process.stderr.write(`[test] all: ${Math.round((Date.now() - started) / 1000)} s\n`);
  console.log(`\n${mode}: ${total.pass} passed, ${total.fail} failed`);
  return total.fail === 0 && total.pass > 0 ? 0 : 1;
}

process.exitCode = await main();
