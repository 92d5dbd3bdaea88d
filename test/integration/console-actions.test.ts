// The console's actions against the test git server and GitHub's stand-in (checked against @octokit/openapi),
// in a real browser: Promote opens the PR `baton promote` opens, the promotions page lists it with its
// baton/policy state, and once it is merged and pulled the open board shows staging's new digest without a
// reload. Its own file (no control plane) so the console's files each stay within the per-file time limit.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { CHROMIUM_ARGS, chromiumPath } from "../support/console-browser.js";
import { cloneConfigRepo, git, seedConfigRepo } from "../support/example-repo.js";
import { GitServer } from "../support/git-server.js";
import { GitHubDouble } from "../support/github-double.js";
import { startConsole } from "../../src/console/server.js";
import { silentLogger } from "../../src/log.js";
import { pin } from "../../src/promote/pin.js";
import { promote } from "../../src/promote/promote.js";

const STAGING = "sha256:4c58c90f14978d5f4dd361f5347b51ca8aa93e55e46c5e39dbb11ccdb91a7c2c";
const NEW = `sha256:${"a".repeat(64)}`;

let server: GitServer;
let github: GitHubDouble;
let browser: Browser;
const gh = (remoteUrl: string | undefined) => github.connect(remoteUrl);

before(async () => {
  server = await GitServer.create();
  github = await GitHubDouble.start(server);
  browser = await chromium.launch({ executablePath: await chromiumPath(), args: CHROMIUM_ARGS });
});
after(async () => {
  // Every request the console's actions sent to the stand-in, and its answers, matched GitHub's OpenAPI description.
  assert.deepEqual(github.violations, []);
  await browser?.close();
  await github.stop();
  await server.destroy();
});

async function openPage(url: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 900, height: 420 } });
  await page.goto(url);
  return page;
}

test("in the browser: Promote opens the PR baton promote opens in the GitHub stand-in; merged and pulled, the open board shows staging's new digest without a reload", async () => {
  await seedConfigRepo(server, "acme/console");
  const ci = await cloneConfigRepo(server, "acme/console", "CI");
  await pin({ repo: ci, env: "testing", images: [`web=ghcr.io/acme/web@${NEW}`], mode: "commit" });
  const ops = await cloneConfigRepo(server, "acme/console", "Ops");
  const cli = await promote({ repo: ops, from: "testing", to: "staging", dryRun: true });
  const remote = await git(ops, "remote", "get-url", "origin");
  const live = await startConsole({ repo: ops, host: "127.0.0.1", port: 0, log: silentLogger, pollMs: 200, actionsGitHub: gh, github: async () => gh(remote) });
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
    // The console reads the clone; the person's `git pull` (or a loop of it) brings the merge in.
    await git(ops, "pull", "--quiet", "--ff-only");
    await page.locator(`tr[data-image="ghcr.io/acme/web"] td:nth-of-type(2)[data-digest="${NEW}"]`).waitFor();
    assert.match(await staging.locator(".change").textContent() ?? "", new RegExp(`promotion ${(await git(ops, "rev-parse", "HEAD")).slice(0, 7)} by `));
    assert.equal(await page.evaluate(() => (globalThis as unknown as { notReloaded?: boolean }).notReloaded), true);
    const shot = path.join(os.tmpdir(), `baton-console-promoted-${process.pid}.png`);
    await page.screenshot({ path: shot });
    console.log(`# console screenshot after the promotion: ${shot}`);
  } finally {
    await page.close();
    await live.close();
    await fs.rm(ci, { recursive: true, force: true });
    await fs.rm(ops, { recursive: true, force: true });
  }
});
