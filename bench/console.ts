/**
 * Console board benchmark: a config repo of 50 environments (two images each, one pipeline chain) with 200
 * commits of pins and promotions. "Board ready" is the first meaningful paint in a real browser (Debian's
 * chromium through playwright-core, as the console's tests drive it): from the page's navigation start to the
 * frame after the board's 50 columns are in the DOM, read from the page's own clock (performance.now()). Also
 * the server's part alone, `loadBoard` (GET /api/board's work). Baseline, measured once in the same run (it
 * takes a minute or more): the same board built the way it was before the batched history reads — `baton
 * history` per environment (a `git log`, a `git ls-tree` per commit and a `git cat-file` per blob, each its
 * own process).
 */
import { execFileSync } from "node:child_process";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { loadPipeline } from "../src/config/pipeline.js";
import { loadBoard } from "../src/console/data.js";
import { boardModel } from "../src/console/board.js";
import { environmentHistory, type HistoryEntry } from "../src/promote/history.js";
import { status } from "../src/promote/status.js";
import { GitWorkspace } from "../src/promote/git-workspace.js";
import { startConsole } from "../src/console/server.js";
import { silentLogger } from "../src/log.js";
import { chromium } from "playwright-core";
import { CHROMIUM_ARGS, chromiumPath } from "../test/support/console-browser.js";

const ENVIRONMENTS = 50;
const COMMITS = 200;
const digest = (n: number) => `sha256:${n.toString(16).padStart(8, "0").repeat(8)}`;

function git(dir: string, ...args: string[]): string {
  return execFileSync("git", args, { cwd: dir, encoding: "utf8" });
}

function workload(name: string, image: string, d: string): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
spec:
  selector:
    matchLabels: {app: ${name}}
  template:
    metadata:
      labels: {app: ${name}}
    spec:
      containers:
        - name: main
          image: ghcr.io/acme/${image}@${d}
`;
}

/** 50 environments e00 → e01 → …; every commit moves one environment's image to a new digest. */
export async function writeBoardRepo(): Promise<string> {
  const repo = await fs.mkdtemp(path.join(os.tmpdir(), "baton-bench-console-"));
  const envs = Array.from({ length: ENVIRONMENTS }, (_, i) => `e${String(i).padStart(2, "0")}`);
  const pipeline = ["apiVersion: baton.dev/v1alpha1", "kind: Pipeline", "metadata:", "  name: bench", "environments:",
    ...envs.flatMap((name, i) => [`  - name: ${name}`, `    path: environments/${name}`, `    namespace: ${name}`, ...(i > 0 ? [`    promoteFrom: ${envs[i - 1]}`] : [])])];
  await fs.writeFile(path.join(repo, "baton.yaml"), pipeline.join("\n") + "\n");
  for (const name of envs) {
    await fs.mkdir(path.join(repo, "environments", name), { recursive: true });
    for (const image of ["web", "api"]) await fs.writeFile(path.join(repo, "environments", name, `${image}.yaml`), workload(image, image, digest(1)));
  }
  git(repo, "init", "--quiet", "--initial-branch=main");
  git(repo, "config", "user.email", "bench@example.com");
  git(repo, "config", "user.name", "Bench");
  git(repo, "add", ".");
  git(repo, "commit", "--quiet", "-m", "Initial config");
  for (let c = 0; c < COMMITS; c++) {
    const env = envs[c % ENVIRONMENTS] ?? "e00";
    const image = c % 3 === 0 ? "api" : "web";
    await fs.writeFile(path.join(repo, "environments", env, `${image}.yaml`), workload(image, image, digest(c + 2)));
    git(repo, "commit", "--quiet", "-am", `Promote ${image} to ${env} (#${c + 1})`);
  }
  git(repo, "gc", "--quiet");
  return repo;
}

/** The board as it was built before: one `history()` per environment. */
async function perEnvironmentBoard(repo: string) {
  const pipeline = await loadPipeline(repo);
  const revision = await (await GitWorkspace.open(repo)).head();
  const report = await status(repo);
  const histories: Record<string, HistoryEntry[]> = {};
  for (const env of pipeline.environments) {
    await loadPipeline(repo); // as history() did, per environment
    histories[env.name] = await environmentHistory(await GitWorkspace.open(repo), env, { limit: 50 });
  }
  return boardModel({ revision, pipeline: pipeline.environments, status: report, histories });
}

async function time<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const start = process.hrtime.bigint();
  const value = await fn();
  return [Number(process.hrtime.bigint() - start) / 1e6, value];
}

/**
 * Milliseconds from navigation start to the frame after the board shows every environment, best of `runs`
 * fresh pages (a new page each: no cached board, a new live-update subscription each time).
 */
async function boardInBrowser(repo: string, runs: number): Promise<number> {
  const server = await startConsole({ repo, host: "127.0.0.1", port: 0, log: silentLogger });
  const browser = await chromium.launch({ executablePath: await chromiumPath(), args: CHROMIUM_ARGS });
  let best = Infinity;
  try {
    for (let i = 0; i < runs; i++) {
      const page = await browser.newPage({ viewport: { width: 1600, height: 900 } });
      // Before the page's own script: watch the DOM for the board's columns, then wait one frame (painted).
      // A string: this runs in the browser (the bench is type-checked without the DOM's types).
      await page.addInitScript({ content: `globalThis.boardReady = new Promise((resolve) => {
        const check = () => {
          if (document.querySelectorAll("th.env").length < ${ENVIRONMENTS}) return false;
          requestAnimationFrame(() => resolve(performance.now()));
          return true;
        };
        new MutationObserver((_, observer) => { if (check()) observer.disconnect(); }).observe(document, { childList: true, subtree: true });
      });` });
      await page.goto(server.url);
      best = Math.min(best, await page.evaluate(() => (globalThis as unknown as { boardReady: Promise<number> }).boardReady));
      await page.close();
    }
  } finally {
    await browser.close();
    await server.close();
  }
  return best;
}

export async function consoleBench(): Promise<void> {
  const repo = await writeBoardRepo();
  const runs = 3;
  let board = Infinity;
  let last: Awaited<ReturnType<typeof loadBoard>> | undefined;
  for (let i = 0; i < runs; i++) {
    const [ms, b] = await time(() => loadBoard({ repo }));
    if (b.environments.length !== ENVIRONMENTS) throw new Error(`board has ${b.environments.length} environments`);
    board = Math.min(board, ms);
    last = b;
  }
  const browser = await boardInBrowser(repo, runs);
  const [baseline, base] = await time(() => perEnvironmentBoard(repo));
  // Same board either way, or the comparison means nothing.
  if (JSON.stringify(last) !== JSON.stringify(base)) throw new Error("the batched board differs from the per-environment board");
  console.log(`console: board ready for ${ENVIRONMENTS} environments × 2 images, ${COMMITS} commits of history (best of ${runs}; baseline once)`);
  console.log(`  in chromium: navigation → board painted  ${browser.toFixed(0)} ms`);
  console.log(`  loadBoard (GET /api/board's work)       ${board.toFixed(0)} ms`);
  console.log(`  baseline history() per environment      ${baseline.toFixed(0)} ms`);
  console.log(`  ratio browser/baseline                  ${(browser / baseline).toFixed(3)}x`);
  await fs.rm(repo, { recursive: true, force: true });
}
