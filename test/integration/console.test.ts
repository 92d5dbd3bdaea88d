// `baton console` in repo-only mode against a real clone (no cluster, no GitHub): the page in a real
// browser (Debian's chromium driven by playwright-core, one launch for the file), the JSON API it uses, the
// same errors as `baton validate`, the request guard (foreign Host / Origin, token mode), and what an action
// does without GitHub or on a read-only board. console-actions.test.ts clicks Promote against GitHub's stand-in.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { promises as fs } from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { git } from "../support/example-repo.js";
import { artifactPath } from "../support/artifacts.js";
import { CHROMIUM_ARGS, chromiumPath } from "../support/console-browser.js";
import { startConsole, type RunningConsole } from "../../src/console/server.js";
import { validateRepo } from "../../src/config/repo.js";
import { silentLogger } from "../../src/log.js";
import { BatonError } from "../../src/errors.js";
import { rollback } from "../../src/promote/rollback.js";
import type { Board } from "../../src/console/board.js";
import { chromium, type Browser, type Page } from "playwright-core";

const root = path.resolve(import.meta.dirname, "../..");
const TESTING = "sha256:951e43dead4712f6baa0794dc4b296f68af2238af7608660875606796287d4d6";
const STAGING = "sha256:4c58c90f14978d5f4dd361f5347b51ca8aa93e55e46c5e39dbb11ccdb91a7c2c";
const NEW = `sha256:${"a".repeat(64)}`;

let repo: string;
let console_: RunningConsole;
let browser: Browser;
/** Serves a page on another origin (another port): what a site the person visits could send. */
let foreign: http.Server;
let foreignUrl: string;

/** The example config repo as a clone whose origin carries a token, as a CI checkout's may. */
async function exampleClone(): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "baton-console-"));
  await fs.copyFile(path.join(root, "baton.yaml"), path.join(dir, "baton.yaml"));
  await fs.cp(path.join(root, "environments"), path.join(dir, "environments"), { recursive: true });
  await git(dir, "init", "--quiet", "--initial-branch=main");
  await git(dir, "config", "user.email", "ann@example.com");
  await git(dir, "config", "user.name", "Ann");
  await git(dir, "remote", "add", "origin", "https://x-access-token:ghs_consoleTestSecret@github.com/acme/config.git");
  await git(dir, "add", ".");
  await git(dir, "commit", "--quiet", "-m", "Example config repo");
  return dir;
}

async function pinTesting(digest: string, message: string): Promise<string> {
  const file = path.join(repo, "environments/testing/web.yaml");
  await fs.writeFile(file, (await fs.readFile(file, "utf8")).replace(/@sha256:[0-9a-f]{64}/, `@${digest}`));
  await git(repo, "commit", "--quiet", "-am", message);
  return git(repo, "rev-parse", "HEAD");
}

before(async () => {
  repo = await exampleClone();
  console_ = await startConsole({ repo, host: "127.0.0.1", port: 0, log: silentLogger, pollMs: 200 });
  // evil.test resolves to the console's address: a DNS-rebinding page, without touching real DNS.
  browser = await chromium.launch({ executablePath: await chromiumPath(), args: [...CHROMIUM_ARGS, "--host-resolver-rules=MAP evil.test 127.0.0.1"] });
  foreign = http.createServer((_req, res) => res.writeHead(200, { "Content-Type": "text/html" })
    .end(`<form method="post" action="${console_.url}api/board"><input name="x" value="1"><button>send</button></form>`));
  await new Promise<void>((resolve) => foreign.listen(0, "127.0.0.1", resolve));
  foreignUrl = `http://127.0.0.1:${(foreign.address() as { port: number }).port}/`;
});
after(async () => {
  await browser?.close();
  foreign?.close();
  await console_.close();
  await fs.rm(repo, { recursive: true, force: true });
});

const api = async (p: string, init: RequestInit = {}) => {
  const res = await fetch(new URL(p, console_.url), init);
  return { status: res.status, headers: res.headers, text: await res.text() };
};

test("the board API: environments in pipeline order with their digests, tags and the commit that last changed each", async () => {
  const commit = await pinTesting(NEW, "Pin web@sha256:aaaaaaa in testing (#4)");
  const res = await api("/api/board");
  assert.equal(res.status, 200);
  const board = (JSON.parse(res.text) as { board: Board }).board;
  assert.equal(board.revision, commit);
  assert.deepEqual(board.environments.map((e) => [e.name, e.cells["ghcr.io/acme/web"]?.digest, e.cells["ghcr.io/acme/web"]?.tag]),
    [["testing", NEW, "1.5.0"], ["staging", STAGING, "1.4.0"], ["production", STAGING, "1.4.0"]]);
  const change = board.environments[0]?.cells["ghcr.io/acme/web"]?.lastChange;
  assert.deepEqual([change?.commit, change?.kind, change?.pr, change?.prUrl], [commit, "pin", 4, "https://github.com/acme/config/pull/4"]);
  assert.doesNotMatch(res.text, /ghs_consoleTestSecret|x-access-token/);

  const env = await api("/api/environments/testing");
  const timeline = (JSON.parse(env.text) as { environment: { timeline: Array<{ commit: string; changes: Array<{ from: string; to: string }> }> } }).environment.timeline;
  assert.deepEqual(timeline.map((t) => [t.commit, t.changes[0]?.from, t.changes[0]?.to]), [[commit, TESTING.slice(7, 14), "aaaaaaa"], [await git(repo, "rev-parse", "HEAD~1"), "-", TESTING.slice(7, 14)]]);
  const unknown = await api("/api/environments/nope");
  assert.equal(unknown.status, 404);
  assert.equal((JSON.parse(unknown.text) as { errors: Array<{ code: string }> }).errors[0]?.code, "PIPELINE_UNKNOWN_ENV");
});

test("a broken baton.yaml: the API answers with the errors baton validate reports (code, file, field, hint)", async () => {
  const good = await fs.readFile(path.join(repo, "baton.yaml"), "utf8");
  await fs.writeFile(path.join(repo, "baton.yaml"), good.replace("promoteFrom: testing", "promoteFrom: tesitng"));
  try {
    const res = await api("/api/board");
    assert.equal(res.status, 422);
    const validate = await validateRepo(repo);
    assert.deepEqual(JSON.parse(res.text), { ok: false, errors: validate.errors.map((e) => e.toJSON()) });
    assert.equal(validate.errors[0]?.code, "PIPELINE_UNKNOWN_ENV");
  } finally {
    await fs.writeFile(path.join(repo, "baton.yaml"), good);
  }
});

test("requests from another origin or for another Host are refused; the page is served with a strict CSP", async () => {
  const post = await api("/api/board", { method: "POST", headers: { Origin: "https://evil.example" } });
  assert.equal(post.status, 403);
  assert.match(post.text, /cross-origin request from https:\/\/evil\.example refused/);
  // fetch() will not send another Host: a DNS-rebound page's request, as its browser would send it.
  const rebound = await new Promise<number>((resolve, reject) => {
    http.get({ host: "127.0.0.1", port: console_.port, path: "/api/board", headers: { Host: `evil.example:${console_.port}` } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    }).on("error", reject);
  });
  assert.equal(rebound, 403);
  const page = await api("/");
  assert.equal(page.status, 200);
  assert.match(page.headers.get("content-security-policy") ?? "", /default-src 'none'; script-src 'self'/);
  assert.match(page.text, /<script type="module" src="\/assets\/app\.js">/);
  assert.equal((await api("/assets/app.js")).status, 200);
});

test("listening beyond loopback needs a token; then every request must carry it, and ?token= sets an HttpOnly cookie", async () => {
  await assert.rejects(startConsole({ repo, host: "0.0.0.0", port: 0, log: silentLogger }), (e: unknown) => e instanceof BatonError && e.code === "USAGE" && /BATON_CONSOLE_TOKEN/.test(e.message));
  const token = "console-test-token-0123456789";
  const open = await startConsole({ repo, host: "0.0.0.0", port: 0, log: silentLogger, token });
  try {
    const base = `http://127.0.0.1:${open.port}`;
    assert.equal((await fetch(`${base}/api/board`)).status, 401);
    const login = await fetch(`${base}/?token=${token}`, { redirect: "manual" });
    assert.equal(login.status, 303);
    assert.equal(login.headers.get("location"), "/");
    const cookie = login.headers.get("set-cookie") ?? "";
    assert.match(cookie, /HttpOnly; SameSite=Strict/);
    assert.equal((await fetch(`${base}/api/board`, { headers: { Cookie: cookie.split(";")[0] ?? "" } })).status, 200);
    assert.equal((await fetch(`${base}/api/board`, { headers: { Authorization: `Bearer ${token}` } })).status, 200);
  } finally {
    await open.close();
  }
});

async function openPage(url: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 900, height: 420 } });
  await page.goto(url);
  return page;
}

test("in the browser: the board shows each environment's digest; the environment page shows its history; a screenshot is kept", async () => {
  const page = await openPage(console_.url);
  try {
    await page.locator("table.board").waitFor();
    const columns = await page.locator("th.env").evaluateAll((ths) => ths.map((th) => th.getAttribute("data-env")));
    assert.deepEqual(columns, ["testing", "staging", "production"]);
    const digests = await page.locator('tr[data-image="ghcr.io/acme/web"] td').evaluateAll((tds) => tds.map((td) => td.getAttribute("data-digest")));
    assert.deepEqual(digests, [NEW, STAGING, STAGING]);
    assert.equal(await page.locator('tr[data-image="ghcr.io/acme/web"] td .digest').first().textContent(), "aaaaaaa");
    assert.equal(await page.getByRole("link", { name: "#4" }).getAttribute("href"), "https://github.com/acme/config/pull/4");
    // staging runs another web digest than testing now: the column names the CLI command that promotes it.
    assert.equal(await page.locator('th.env[data-env="staging"] .promote code').textContent(), "baton promote testing staging");
    const shot = artifactPath("console-board.png");
    await page.screenshot({ path: shot });
    console.log(`# console screenshot: ${shot}`);
    // Keyboard: the environment names are links; Enter on the focused one opens its history.
    await page.locator('th.env[data-env="testing"] a').focus();
    await page.keyboard.press("Enter");
    await page.locator("table.timeline").waitFor();
    // Focus moves to the page's title, so Tab continues through this environment's page.
    assert.equal(await page.locator("h1:focus").count(), 1);
    // No kubeconfig: the cluster part says what is missing and how to add it, instead of a blank.
    const missing = page.locator('.cluster-missing[data-state="not-configured"]');
    assert.match(await missing.textContent() ?? "", /No cluster is configured.*hint: restart baton console with --kubeconfig FILE/);
    const commits = await page.locator("table.timeline tbody tr td:nth-child(2)").allTextContents();
    assert.deepEqual(commits, [(await git(repo, "rev-parse", "HEAD")).slice(0, 7), (await git(repo, "rev-parse", "HEAD~1")).slice(0, 7)]);
    // "Back to here" on the older row is a command that works: it would revert exactly the newer pin.
    const back = await page.locator("table.timeline tbody tr:nth-child(2) td:last-child code").textContent() ?? "";
    const [, , env, , to] = back.split(" ");
    assert.match(back, /^baton rollback testing --to [0-9a-f]{12}$/);
    const plan = await rollback({ repo, env: env ?? "", ...(to ? { to } : {}), dryRun: true });
    assert.deepEqual(plan.reverted.map((r) => r.sha), [await git(repo, "rev-parse", "HEAD")]);
  } finally {
    await page.close();
  }
});

test("in the browser: a new commit pinning another digest shows on the open board without a reload (server-sent events)", async () => {
  const page = await openPage(console_.url);
  try {
    const web = page.locator('tr[data-image="ghcr.io/acme/web"] td').first();
    await page.locator(`tr[data-image="ghcr.io/acme/web"] td[data-digest="${NEW}"]`).waitFor();
    await page.evaluate(() => { (globalThis as unknown as { notReloaded: boolean }).notReloaded = true; });
    const next = `sha256:${"b".repeat(64)}`;
    const commit = await pinTesting(next, "Pin web@sha256:bbbbbbb in testing (#5)");
    await page.locator(`tr[data-image="ghcr.io/acme/web"] td[data-digest="${next}"]`).waitFor();
    assert.equal(await web.locator(".digest").textContent(), "bbbbbbb");
    assert.match(await web.locator(".change").textContent() ?? "", new RegExp(`pin ${commit.slice(0, 7)} by Ann`));
    assert.equal(await page.evaluate(() => (globalThis as unknown as { notReloaded?: boolean }).notReloaded), true);
  } finally {
    await page.close();
  }
});

test("in the browser: a broken baton.yaml shows baton validate's error (code, file, hint), not a blank page", async () => {
  const good = await fs.readFile(path.join(repo, "baton.yaml"), "utf8");
  await fs.writeFile(path.join(repo, "baton.yaml"), good.replace("promoteFrom: testing", "promoteFrom: tesitng"));
  const page = await openPage(console_.url);
  try {
    const alert = page.getByRole("alert");
    await alert.waitFor();
    const [error] = (await validateRepo(repo)).errors;
    assert.ok(error);
    assert.equal(await alert.locator("li").getAttribute("data-code"), error.code);
    const text = await alert.textContent() ?? "";
    for (const part of [error.code, error.message, `hint: ${error.hint}`, "baton.yaml"]) assert.ok(text.includes(part), `page shows ${part}: ${text}`);
  } finally {
    await page.close();
    await fs.writeFile(path.join(repo, "baton.yaml"), good);
  }
});

test("in the browser: a form on another site posting to the console, and a DNS-rebound name, are refused", async () => {
  const page = await openPage(foreignUrl);
  try {
    const [response] = await Promise.all([page.waitForResponse(`${console_.url}api/board`), page.getByRole("button", { name: "send" }).click()]);
    assert.equal(response.status(), 403);
    assert.match(await response.text(), /cross-origin request from http:\/\/127\.0\.0\.1:\d+ refused/);
    const rebound = await page.goto(`http://evil.test:${console_.port}/api/board`);
    assert.equal(rebound?.status(), 403);
    assert.match(await rebound?.text() ?? "", /is not the console's loopback address/);
  } finally {
    await page.close();
  }
});

test("actions: a POST without the page's session token, or to a read-only console, changes nothing", async () => {
  const origin = console_.url.replace(/\/$/, "");
  const body = JSON.stringify({ action: "promote", from: "testing", to: "staging" });
  const forged = await api("/api/actions", { method: "POST", headers: { Origin: origin, "Content-Type": "application/json" }, body });
  assert.equal(forged.status, 403);
  assert.match(forged.text, /without the page's session token/);
  const readOnly = await startConsole({ repo, host: "127.0.0.1", port: 0, log: silentLogger, readOnly: true });
  try {
    const session = (await (await fetch(`${readOnly.url}api/session`)).json()) as { session: { csrfToken: string; actions: boolean } };
    assert.equal(session.session.actions, false);
    const refused = await fetch(`${readOnly.url}api/actions`, { method: "POST", headers: { Origin: readOnly.url.replace(/\/$/, ""), "X-Baton-Csrf": session.session.csrfToken, "Content-Type": "application/json" }, body });
    assert.equal(refused.status, 403);
    assert.equal(((await refused.json()) as { errors: Array<{ code: string }> }).errors[0]?.code, "READ_ONLY");
    const page = await openPage(readOnly.url);
    try {
      await page.locator('th.env[data-env="staging"] .promote code').waitFor();
      assert.equal(await page.locator("button.action").count(), 0, "no buttons on a read-only board");
    } finally {
      await page.close();
    }
  } finally {
    await readOnly.close();
  }
  assert.equal(await git(repo, "branch", "--list", "baton/*"), "", "no promotion branch was made");
});

test("in the browser: Promote without a GitHub token shows Baton's error with its code and hint, and the board stays", async () => {
  const page = await openPage(console_.url);
  try {
    page.on("dialog", (dialog) => void dialog.accept());
    await page.locator('th.env[data-env="staging"] button[data-action="promote"]').click();
    const alert = page.locator("#notice [role=alert]");
    await alert.waitFor();
    assert.equal(await alert.locator("li").getAttribute("data-code"), "GITHUB_TOKEN_MISSING");
    assert.match(await alert.textContent() ?? "", /hint: set GITHUB_TOKEN/);
    assert.equal(await page.locator("table.board").count(), 1);
  } finally {
    await page.close();
  }
});
