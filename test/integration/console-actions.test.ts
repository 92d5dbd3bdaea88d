// The console's actions against the test git server and GitHub's stand-in (checked against @octokit/openapi),
// in a real browser (one launch, one console for the file): Promote opens the PR `baton promote` opens, the
// promotions page lists it with its baton/policy state, and once it is merged and pulled the open board shows
// staging's new digest without a reload; Roll back to here, Confirm and Abort each open the PR their CLI command
// opens (the command, run afterwards from another clone, finds that PR and updates it with the same files).
// Its own file (no control plane) so the console's files each stay within the per-file time limit.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import { chromium, type Browser, type Page } from "playwright-core";
import { artifactPath } from "../support/artifacts.js";
import { CHROMIUM_ARGS, chromiumPath } from "../support/console-browser.js";
import { cloneConfigRepo, git, seedConfigRepo } from "../support/example-repo.js";
import { GitServer } from "../support/git-server.js";
import { GitHubDouble } from "../support/github-double.js";
import { waitFor } from "../support/processes.js";
import { startConsole, type RunningConsole } from "../../src/console/server.js";
import { ensureClone } from "../../src/console/clone.js";
import { BatonError } from "../../src/errors.js";
import { createLogger, silentLogger } from "../../src/log.js";
import { pin } from "../../src/promote/pin.js";
import { promote } from "../../src/promote/promote.js";
import { changeRelease } from "../../src/promote/release.js";
import { rollback } from "../../src/promote/rollback.js";

const STAGING = "sha256:4c58c90f14978d5f4dd361f5347b51ca8aa93e55e46c5e39dbb11ccdb91a7c2c";
const NEW = `sha256:${"a".repeat(64)}`;

const PROD_NEW = `sha256:${"c".repeat(64)}`;
/** production gets a canary (and direct pushes, so a pin can start its release): Confirm and Abort have one to act on. */
const CANARY = "    allowDirectPush: true\n    strategy: {type: canary, router: service, route: web, steps: [{setWeight: 20}, {pause: {}}]}\n";

let server: GitServer;
let github: GitHubDouble;
let browser: Browser;
let ops: string;
let ci: string;
let remote: string;
let live: RunningConsole;
const gh = (remoteUrl: string | undefined) => github.connect(remoteUrl);

before(async () => {
  server = await GitServer.create();
  github = await GitHubDouble.start(server);
  await seedConfigRepo(server, "acme/console");
  ci = await cloneConfigRepo(server, "acme/console", "CI");
  const pipeline = await fs.readFile(path.join(ci, "baton.yaml"), "utf8");
  await fs.writeFile(path.join(ci, "baton.yaml"), pipeline.replace(/( {2}- name: production\n(?: {4}.*\n)*)/, `$1${CANARY}`));
  await git(ci, "commit", "--quiet", "-am", "production: canary releases");
  await git(ci, "push", "--quiet", "origin", "main");
  await pin({ repo: ci, env: "testing", images: [`web=ghcr.io/acme/web@${NEW}`], mode: "commit" });
  // A pin into the canary environment starts its release: step 1 (20%) with PROD_NEW as the candidate.
  await pin({ repo: ci, env: "production", images: [`web=ghcr.io/acme/web@${PROD_NEW}`], mode: "commit" });
  ops = await cloneConfigRepo(server, "acme/console", "Ops");
  remote = await git(ops, "remote", "get-url", "origin");
  // --pull: the console fast-forwards its clone by itself, so a merged PR reaches the board without a git pull.
  live = await startConsole({ repo: ops, host: "127.0.0.1", port: 0, log: silentLogger, pollMs: 200, pullMs: 500, actionsGitHub: gh, github: async () => gh(remote) });
  browser = await chromium.launch({ executablePath: await chromiumPath(), args: CHROMIUM_ARGS });
});
after(async () => {
  // Every request the console's actions sent to the stand-in, and its answers, matched GitHub's OpenAPI description.
  assert.deepEqual(github.violations, []);
  await browser?.close();
  await live?.close();
  await github.stop();
  await server.destroy();
  for (const dir of [ci, ops]) if (dir) await fs.rm(dir, { recursive: true, force: true });
});

async function openPage(url: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 900, height: 420 } });
  // An action (a promote or rollback: git commands and GitHub calls in this process) took over playwright's
  // default 30 s to report twice at load average 22 to 28 on the 2-core machine: waits here get 2 minutes.
  page.setDefaultTimeout(120_000);
  await page.goto(url);
  return page;
}

/** Clicks an action button, accepts its dialog, and returns the PR number the page reports. */
async function clickAction(page: Page, button: string, command: string): Promise<number> {
  let asked = "";
  page.once("dialog", (dialog) => {
    asked = dialog.message();
    void dialog.accept();
  });
  await page.locator(button).click();
  const done = page.locator('#notice .done[data-outcome="opened"]');
  await done.waitFor();
  assert.equal(asked.split("?")[0], `Run ${command}`);
  assert.equal(await done.locator("code").textContent(), command);
  return Number(await done.locator("a[data-pr]").getAttribute("data-pr"));
}

/** What a branch changes against the clone's main; the time of a rejection (`at:`, when it was made) is left out. */
const changesOf = async (branch: string): Promise<string> => {
  await git(ci, "fetch", "--quiet", "origin", branch);
  // Blob ids (`index` lines) differ with the time too.
  return (await git(ci, "diff", "HEAD", "FETCH_HEAD")).replace(/^([-+]\s*(?:- )?at: ).*$/gm, "$1<time>").replace(/^index .*\n/gm, "");
};

/**
 * The PR the console opened is the one the CLI command opens: run from another clone at the same commit, the
 * command finds it (same branch) and updates it rather than opening a second, with the same changes.
 */
async function assertSameAsCli(number: number, cli: () => Promise<{ action: string; title: string; branch?: string; pull?: { number: number } }>): Promise<void> {
  const pull = github.pulls.find((p) => p.repository === "acme/console" && p.number === number);
  assert.equal(pull?.state, "open");
  await git(ci, "pull", "--quiet", "--ff-only");
  assert.equal(await git(ci, "rev-parse", "HEAD"), await git(ops, "rev-parse", "HEAD"), "both clones at the same commit");
  const fromConsole = await changesOf(pull?.head ?? "");
  assert.notEqual(fromConsole, "");
  const result = await cli();
  assert.deepEqual([result.action, result.pull?.number, result.branch, result.title], ["updated", number, pull?.head, pull?.title]);
  assert.equal(await changesOf(pull?.head ?? ""), fromConsole, "the CLI's commit changes what the console's did");
  assert.equal(github.pulls.filter((p) => p.repository === "acme/console" && p.head === pull?.head).length, 1);
  assert.equal(await git(ops, "rev-parse", "--abbrev-ref", "HEAD"), "main", "the console's clone is back on its base branch");
}

test("in the browser: Promote opens the PR baton promote opens in the GitHub stand-in; merged and pulled, the open board shows staging's new digest without a reload", async () => {
  const cli = await promote({ repo: ops, from: "testing", to: "staging", dryRun: true });
  const page = await openPage(live.url);
  try {
    const staging = page.locator('tr[data-image="ghcr.io/acme/web"] td:nth-of-type(2)');
    await page.locator(`tr[data-image="ghcr.io/acme/web"] td:nth-of-type(1)[data-digest="${NEW}"]`).waitFor();
    assert.equal(await staging.getAttribute("data-digest"), STAGING);
    await page.evaluate(() => { (globalThis as unknown as { notReloaded: boolean }).notReloaded = true; });
    let asked = "";
    page.on("dialog", (dialog) => {
      asked = dialog.message();
      void dialog.accept();
    });
    await page.locator('th.env[data-env="staging"] button[data-action="promote"]').click();
    const done = page.locator('#notice .done[data-outcome="opened"]');
    await done.waitFor();
    assert.match(asked, /^Run baton promote testing staging\?/);
    const number = Number(await done.locator("a[data-pr]").getAttribute("data-pr"));
    const pull = github.pulls.find((p) => p.repository === "acme/console" && p.number === number);
    assert.deepEqual([pull?.state, pull?.head, pull?.title, pull?.base], ["open", cli.branch, cli.title, "main"]);
    assert.equal(await git(ops, "rev-parse", "--abbrev-ref", "HEAD"), "main", "the clone is back on its base branch");
    // The promotions page lists it with the baton/policy state Baton set on its head (soak, approvals…).
    const policy = github.statuses.filter((st) => st.repository === "acme/console" && st.context === "baton/policy").at(-1);
    assert.ok(policy, "baton promote set baton/policy");
    await page.getByRole("link", { name: "Promotions" }).click();
    const row = page.locator(`table.promotions tr[data-pr="${number}"]`);
    await row.waitFor();
    assert.deepEqual(await row.locator("td").allTextContents(), [`#${number}`, "promotion", "staging", cli.title, `${policy.state}: ${policy.description}`]);
    await page.getByRole("link", { name: "Baton" }).click();
    await page.locator("table.board").waitFor();

    await gh(remote).mergePull(number, { method: "merge" });
    // Nobody pulls the clone here: the console's --pull brings the merge in.
    await page.locator(`tr[data-image="ghcr.io/acme/web"] td:nth-of-type(2)[data-digest="${NEW}"]`).waitFor();
    assert.match(await staging.locator(".change").textContent() ?? "", new RegExp(`promotion ${(await git(ops, "rev-parse", "HEAD")).slice(0, 7)} by `));
    assert.equal(await page.evaluate(() => (globalThis as unknown as { notReloaded?: boolean }).notReloaded), true);
    const shot = artifactPath("console-promoted.png");
    await page.screenshot({ path: shot });
    console.log(`# console screenshot after the promotion: ${shot}`);
  } finally {
    await page.close();
  }
});

test("in the browser: Roll back to here on staging's history opens the PR baton rollback --to opens", async () => {
  // After the promotion above was merged: staging's history has the promotion and the first commit.
  const page = await openPage(`${live.url}#/env/staging`);
  try {
    const older = page.locator("table.timeline tbody tr:nth-child(2)");
    await older.waitFor();
    const command = await older.locator("code").textContent() ?? "";
    const to = command.split(" ").at(-1) ?? "";
    assert.equal(command, `baton rollback staging --to ${to}`);
    const number = await clickAction(page, 'table.timeline tbody tr:nth-child(2) button[data-action="rollback"]', command);
    await assertSameAsCli(number, () => rollback({ repo: ci, env: "staging", to, github: gh }));
    assert.deepEqual(github.pulls.find((p) => p.number === number)?.labels.includes("rollback"), true);
  } finally {
    await page.close();
  }
});

test("in the browser: production's page shows its canary's steps; Confirm and Abort open the PRs baton confirm and baton abort open", async () => {
  const page = await openPage(`${live.url}#/env/production`);
  try {
    const steps = page.locator("table.steps tbody tr");
    await steps.first().waitFor();
    assert.deepEqual(await steps.evaluateAll((rows) => rows.map((r) => [r.getAttribute("data-step"), r.getAttribute("data-state"), r.children[1]?.textContent, r.children[2]?.textContent])),
      [["1", "current", "setWeight 20", "20%"], ["2", "next", "pause until baton confirm", "20%"]]);
    assert.match(await page.locator(".release .phase").textContent() ?? "", /^Progressing — canary on the service router, route web; candidate 20%/);
    assert.equal(await page.locator(".release .next").textContent(), "next: the promoter moves to step 2 once the candidate is healthy");
    assert.doesNotMatch(await page.locator("main").textContent() ?? "", /undefined/);
    assert.match(await page.locator(".release").textContent() ?? "", new RegExp(`candidate slot \\w+: web@${PROD_NEW.slice(7, 14)}`));
    const shot = artifactPath("console-environment.png");
    await page.screenshot({ path: shot, fullPage: true });
    console.log(`# console screenshot of an environment page: ${shot}`);

    const confirm = await clickAction(page, '.release-actions button[data-action="confirm"]', "baton confirm production");
    await assertSameAsCli(confirm, () => changeRelease({ repo: ci, env: "production", action: "confirm", github: gh }));
    const abort = await clickAction(page, '.release-actions button[data-action="abort"]', "baton abort production");
    assert.notEqual(abort, confirm);
    await assertSameAsCli(abort, () => changeRelease({ repo: ci, env: "production", action: "abort", github: gh }));
    // Neither changed the base branch: they are PRs for a person (and baton/policy) to merge.
    assert.equal(await git(ops, "rev-parse", "HEAD"), await git(ops, "rev-parse", "origin/main"));
  } finally {
    await page.close();
  }
});

test("--clone: the console clones the config repo into an empty folder once, and refuses a folder that is something else", async () => {
  const dir = path.join(await fs.mkdtemp(path.join(os.tmpdir(), "baton-console-clone-")), "config");
  try {
    assert.equal(await ensureClone(server.url("acme/console"), "main", dir), true);
    assert.equal(await git(dir, "rev-parse", "HEAD"), await git(ops, "rev-parse", "origin/main"));
    assert.equal(await ensureClone(server.url("acme/console"), "main", dir), false, "an existing clone is used as it is");
    await fs.rm(path.join(dir, ".git"), { recursive: true, force: true });
    await assert.rejects(ensureClone(server.url("acme/console"), "main", dir), (e: unknown) => e instanceof BatonError && e.code === "USAGE" && e.field === "--repo");
    await assert.rejects(ensureClone(server.url("acme/console"), "nope", path.join(dir, "..", "other")), (e: unknown) => e instanceof BatonError && e.code === "GIT_FAILED" && /branch nope/.test(e.message));
  } finally {
    await fs.rm(path.dirname(dir), { recursive: true, force: true });
  }
});

test("--pull on a clone that has diverged from origin: said once (GIT_DIVERGED with the git commands that get out), the board keeps the clone's state, and it follows origin again once reset", async () => {
  const stale = await cloneConfigRepo(server, "acme/console", "Stale");
  const lines: Array<{ level: number; msg: string; code?: string; hint?: string }> = [];
  const sink = new Writable({ write(chunk: Buffer, _enc, done) { lines.push(JSON.parse(chunk.toString()) as (typeof lines)[number]); done(); } });
  const board = await startConsole({ repo: stale, host: "127.0.0.1", port: 0, log: createLogger("debug", sink), pullMs: 300 });
  try {
    // A local commit nobody pushed, while origin moves on.
    await fs.writeFile(path.join(stale, "NOTES.md"), "local only\n");
    await git(stale, "add", "NOTES.md");
    await git(stale, "commit", "--quiet", "-m", "A local note");
    const local = await git(stale, "rev-parse", "HEAD");
    await git(ci, "pull", "--quiet", "--ff-only");
    await pin({ repo: ci, env: "testing", images: [`web=ghcr.io/acme/web@sha256:${"d".repeat(64)}`], mode: "commit" });
    const pull = (level: number) => lines.filter((l) => l.level === level && /pull the console's clone/.test(l.msg));
    await waitFor("two more failed pulls after the first", async () => (pull(20).length >= 2 ? true : undefined), 30_000);
    assert.equal(pull(40).length, 1, "one warning, not one per interval");
    const warning = pull(40)[0];
    assert.equal(warning?.code, "GIT_DIVERGED");
    assert.match(warning?.hint ?? "", new RegExp(`git -C ${stale} reset --hard origin/main.*git -C ${stale} pull --rebase`));
    const body = await (await fetch(`${board.url}api/board`)).json() as { ok: boolean; board: { revision: string } };
    assert.deepEqual([body.ok, body.board.revision], [true, local], "the board is the clone as it is");

    await git(stale, "reset", "--quiet", "--hard", "origin/main");
    await waitFor("the pull working again", async () => (lines.some((l) => l.level === 30 && /fast-forwards again/.test(l.msg)) ? true : undefined), 30_000);
    assert.equal(await git(stale, "rev-parse", "HEAD"), await git(ci, "rev-parse", "HEAD"));
  } finally {
    await board.close();
    await fs.rm(stale, { recursive: true, force: true });
  }
});
