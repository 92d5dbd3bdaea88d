// End to end, no mocks in the path, on the real control plane, git server and GitHub stand-in: the
// promotion cycle (pin → policy-held PR → code-owner approval → merge through GitHub's API → deploy →
// rollback PR → merged → previous digest → history with PR numbers), once per merge method GitHub offers
// (merge commits, squash, rebase) against one agent, and a person's hand edit rolled back like a promotion.
// One fixture for all of them: starting an agent on fresh namespaces costs more than a cycle.
// Its Deployments run no Pods (replicas 0), so it shares the control plane with other files:
// test-lane: shares-cluster
// Then the console in a real browser on the same agent, stand-in and git server: the board, Promote, the
// merge, the apply, live.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { promises as fs } from "node:fs";
import path from "node:path";
import { parseBatonCommit } from "../../src/promote/trailers.js";
import { findMergeTarget, mergeBatonPull } from "../../src/promote/merge.js";
import { rollback } from "../../src/promote/rollback.js";
import { git } from "../support/example-repo.js";
import { DEFAULT_SETTINGS } from "../support/github-double.js";
import { status } from "../../src/promote/status.js";
import { clientReader, readClusters } from "../../src/promote/cluster-status.js";
import { openClusterReaders } from "../../src/cli/clusters.js";
import os from "node:os";
import { digestFor, promotionCycle, startE2E, type E2E } from "../support/e2e-promotion.js";
import { waitFor } from "../support/processes.js";
import { startConsole } from "../../src/console/server.js";
import type { Board } from "../../src/console/board.js";
import { environmentsDeploying, environmentsDeployingIn } from "../../src/console/cluster.js";
import type { EnvironmentPage } from "../../src/console/data.js";
import { silentLogger } from "../../src/log.js";
import { artifactPath } from "../support/artifacts.js";
import { chromium, type Browser, type Page } from "playwright-core";
import { CHROMIUM_ARGS, chromiumPath } from "../support/console-browser.js";
import { ENV_API_VERSION, ENV_KIND } from "../../src/agent/environment.js";
import { pin } from "../../src/promote/pin.js";

let e: E2E;
let browser: Browser | undefined;
let page: Page;
before(async () => {
  // The browser starts while the fixture waits on the agent. Production is deployed too: the board's test
  // shows three environments with the agent's health.
  const launching = chromiumPath().then((executablePath) => chromium.launch({ executablePath, args: CHROMIUM_ARGS }));
  [e, browser] = await Promise.all([startE2E("a", ["testing", "staging", "production"]), launching]);
  page = await browser.newPage({ viewport: { width: 1100, height: 460 } });
});
after(async () => {
  assert.deepEqual(e?.github.violations, []);
  await browser?.close();
  await e?.stop();
});

test("merge commits: pin → policy → approval → merge → deploy → rollback → history", async () => {
  await promotionCycle(e, "merge", digestFor("e1"));
});

/** A second cluster that cannot be reached (nothing listens on port 1), with credentials the board must not show. */
async function unreachableKubeconfig(): Promise<string> {
  const file = path.join(await fs.mkdtemp(path.join(os.tmpdir(), "baton-unreachable-")), "kubeconfig");
  await fs.writeFile(file, "apiVersion: v1\nkind: Config\ncurrent-context: prod-us\nclusters: [{name: us, cluster: {server: \"https://admin:hunter2-in-url@127.0.0.1:1\", insecure-skip-tls-verify: true}}]\n"
    + "users: [{name: ops, user: {token: tok-unreachable-secret}}]\ncontexts: [{name: prod-us, context: {cluster: us, user: ops}}]\n");
  return file;
}

test("status and notifications saw the cycle; the console shows the reachable cluster and names the unreachable one", async () => {
  // Two clusters as `baton console --kubeconfig A --kubeconfig B --namespace NS` opens them: one client each, kept.
  const readers = await openClusterReaders({ kubeconfig: [process.env.BATON_TEST_KUBECONFIG ?? "", await unreachableKubeconfig()], namespace: e.ns });
  // baton status: the repo's pins, the agent's view from the cluster, and GitHub's deployments.
  const report = await status(e.dev, async () => e.api, () => readClusters(readers));
  const staging = report.environments.find((x) => x.name === "staging");
  assert.equal(staging?.cluster?.ready, "True");
  assert.equal(staging?.deployment?.state, "success");
  assert.deepEqual(report.clusters?.map((c) => [c.name === "prod-us", c.error === undefined]), [[false, true], [true, false]]);
  // baton console shows the same: the agent's readiness and revision, GitHub's deployment, per environment.
  const board = await startConsole({
    repo: e.dev, host: "127.0.0.1", port: 0, log: silentLogger, github: async () => e.api, cluster: () => readClusters(readers),
    environmentDetail: (folder) => environmentsDeployingIn(readers, folder),
  });
  try {
    const response = await fetch(`${board.url}api/board`);
    const text = await response.text();
    assert.equal(response.status, 200, text);
    const body = JSON.parse(text) as { board: Board };
    const column = body.board.environments.find((x) => x.name === "staging");
    assert.deepEqual([body.board.github, column?.cluster?.ready, column?.cluster?.revision, column?.deployment?.state], ["ok", "True", staging?.cluster?.revision, "success"]);
    const unreachable = body.board.clusters?.find((c) => c.name === "prod-us");
    assert.match(unreachable?.error ?? "", /^cannot read its Environments: .*ECONNREFUSED/);
    for (const secret of ["hunter2-in-url", "tok-unreachable-secret", "admin:"]) assert.ok(!text.includes(secret), `the board shows ${secret}`);
    assert.equal(column?.cells["ghcr.io/acme/web"]?.digest, staging?.images[0]?.digest);
    // The environment page: the Environment's conditions, the objects it applied, and its Events (written
    // off the agent's critical path, so the page is read again until the Applied Event is there).
    const readPage = async () => (await (await fetch(`${board.url}api/environments/staging`)).json() as { environment: EnvironmentPage }).environment;
    const page = await waitFor("the Applied Event on the environment page", async () => {
      const p = await readPage();
      return p.cluster.state === "ok" && p.cluster.environments[0]?.events.some((ev) => ev.reason === "Applied") ? p : undefined;
    }, 30_000).catch(readPage);
    assert.equal(page.cluster.state, "ok");
    const object = page.cluster.state === "ok" ? page.cluster.environments[0] : undefined;
    const live = await e.envAt("staging", staging?.cluster?.revision ?? "");
    assert.deepEqual([object?.name, object?.revision], [live.metadata.name, live.status?.lastAppliedRevision]);
    assert.deepEqual(object?.conditions.find((c) => c.type === "Ready")?.status, "True");
    assert.ok(object?.inventory.some((o) => o.kind === "Deployment" && o.name === "web" && o.namespace === e.appNamespace("staging")), JSON.stringify(object?.inventory));
    assert.equal(object?.inventory.length, live.status?.inventory?.entries.length);
    assert.ok(object?.events.some((ev) => ev.reason === "Applied"), JSON.stringify(object?.events));
  } finally {
    await board.close();
    for (const r of readers) r.close();
  }
  assert.deepEqual(e.github.violations, []);
  const events = await waitFor("notifications", async () => (e.received.some((x) => x.type === "promotion.merged" && x.environment === "staging") ? e.received : undefined), 10_000);
  const seen = new Set(events.map((x) => `${x.type}:${x.environment}`));
  for (const want of ["deploy.succeeded:testing", "promotion.opened:staging", "deploy.succeeded:staging", "rollback.opened:staging"]) {
    assert.ok(seen.has(want), `missing notification ${want}; got ${[...seen].join(", ")}`);
  }
});

test("squash merges without Baton's trailers: pin → policy → approval → merge → deploy → rollback → history", async () => {
  await promotionCycle(e, "squash", digestFor("e2"));
  const messages = (await git(e.dev, "log", "--first-parent", "--format=%B%x1e", "-2")).split("\x1e").filter((m) => m.trim());
  assert.deepEqual(messages.map((m) => parseBatonCommit(m).kind), [undefined, undefined], "the squash commits carry no trailers");
  // The agent still announced the squashed promotion (the commit before the rollback's) as merged.
  const squashed = await git(e.dev, "rev-parse", "HEAD~1");
  await waitFor("promotion.merged", async () => (e.received.some((x) => x.type === "promotion.merged" && x.environment === "staging" && x.revision === squashed) ? true : undefined), 10_000);
});

test("rebase merges (new SHAs, no merge commit, PR numbers only from GitHub): pin → policy → approval → merge → deploy → rollback → history", async () => {
  await promotionCycle(e, "rebase", digestFor("e3"));
});

test("a hand edit of a digest (no Baton commit) is rolled back like a promotion", async () => {
  e.github.settings = { ...DEFAULT_SETTINGS };
  const before = await e.image("staging");
  const hotfix = digestFor("f0");
  const file = path.join(e.dev, "environments/staging/web.yaml");
  await fs.writeFile(file, (await fs.readFile(file, "utf8")).replace(/(image: ghcr\.io\/acme\/web[^@\n]*)@sha256:[0-9a-f]{64}/, `$1@${hotfix}`));
  await git(e.dev, "commit", "--quiet", "-am", "Hotfix: run the patched build");
  await git(e.dev, "push", "--quiet", "origin", "main");
  const edited = await git(e.dev, "rev-parse", "HEAD");
  await e.envAt("staging", edited);
  assert.match(await e.image("staging") ?? "", new RegExp(`@${hotfix}$`));
  const rb = await rollback({ repo: e.dev, env: "staging", github: e.gh });
  assert.deepEqual(rb.reverted.map((r) => r.sha), [edited]);
  await e.github.review(rb.pull?.number ?? 0, "alice");
  await mergeBatonPull(e.api, await findMergeTarget(e.api, "staging"));
  await e.envAt("staging", await e.main());
  assert.equal(await e.image("staging"), before);
});

test("in the browser: the board shows three environments' digests and health from the cluster; Promote opens the PR in the stand-in; merged and applied, the open board shows staging's new digest and health", async () => {
  const digest = digestFor("b0");
  const pinned = await pin({ repo: e.dev, env: "testing", images: [`web=ghcr.io/acme/web:2.0.0@${digest}`], mode: "commit" });
  // A second cluster that does not answer: marked on the board while this one's health still shows.
  const [unreachable] = await openClusterReaders({ kubeconfig: [await unreachableKubeconfig()] });
  const readers = [clientReader("test", e.client, [e.ns]), ...(unreachable ? [unreachable] : [])];
  // The person's own clone, which the console fast-forwards itself (--pull): nobody runs git pull in it.
  const board = await startConsole({
    repo: await e.clone("Ops"), host: "127.0.0.1", port: 0, log: silentLogger, pollMs: 200, pullMs: 500,
    cluster: () => readClusters(readers), environmentDetail: (folder) => environmentsDeploying(e.client, e.ns, folder),
    github: async () => e.api, actionsGitHub: e.gh,
  });
  // The policy's checks (soak, code-owner review) are the cycles' above; here the PR merges once opened.
  e.github.settings = { ...DEFAULT_SETTINGS };
  const protection = e.github.protection.get("main");
  e.github.protection.delete("main");
  const setSuspended = (suspend: boolean) => e.client.mergePatch(ENV_API_VERSION, ENV_KIND, e.ns, "staging", { spec: { suspend } });
  try {
    await page.goto(board.url);
    const cellOf = (env: string) => page.locator(`tr[data-image="ghcr.io/acme/web"] td:nth-of-type(${["testing", "staging", "production"].indexOf(env) + 1})`);
    const health = (env: string, revision: string) => page.locator(`th.env[data-env="${env}"] .health.ok`, { hasText: `Ready @ ${revision.slice(0, 7)}` });
    // Each column's digest is the one the cluster runs, and its health is the agent's: Ready at the pin's commit.
    for (const env of ["testing", "staging", "production"]) {
      await e.envAt(env, pinned.commit ?? "");
      await health(env, pinned.commit ?? "").waitFor();
      assert.equal(await cellOf(env).getAttribute("data-digest"), (await e.image(env))?.split("@")[1], `${env}'s digest on the board`);
    }
    assert.equal(await cellOf("testing").getAttribute("data-digest"), digest);
    const problem = await page.locator('.cluster-problems li[data-cluster="prod-us"]').textContent() ?? "";
    assert.match(problem, /^cluster prod-us: cannot read its Environments: .*ECONNREFUSED.*show no health until it answers\.$/);
    assert.ok(!/hunter2|tok-unreachable|admin:/.test(await page.content()), "no credentials on the page");
    assert.deepEqual(await page.locator("th.env").evaluateAll((ths) => ths.map((th) => th.getAttribute("data-env"))), ["testing", "staging", "production"]);
    await page.evaluate(() => { (globalThis as unknown as { notReloaded: boolean }).notReloaded = true; });

    // Staging's Environment is suspended while the PR merges: the board shows git's new digest while the
    // cluster still runs the old one; then the apply's health arrives by itself (no new commit).
    await setSuspended(true);
    page.once("dialog", (dialog) => void dialog.accept());
    await page.locator('th.env[data-env="staging"] button[data-action="promote"]').click();
    const done = page.locator('#notice .done[data-outcome="opened"]');
    await done.waitFor();
    const number = Number(await done.locator("a[data-pr]").getAttribute("data-pr"));
    const pull = e.github.pull(number);
    assert.deepEqual([pull.repository, pull.state, pull.base, pull.labels.includes("promotion"), pull.labels.includes("env:staging")], ["acme/config", "open", "main", true, true]);

    const merged = await e.api.mergePull(number, { method: "merge" });
    await cellOf("staging").and(page.locator(`[data-digest="${digest}"]`)).waitFor();
    assert.equal(await health("staging", pinned.commit ?? "").count(), 1, "suspended: the agent has not applied the merge");
    assert.notEqual(await e.image("staging"), `ghcr.io/acme/web:2.0.0@${digest}`);

    await setSuspended(false);
    await e.envAt("staging", merged.sha);
    assert.equal(await e.image("staging"), `ghcr.io/acme/web:2.0.0@${digest}`);
    await health("staging", merged.sha).waitFor();
    assert.equal(await page.evaluate(() => (globalThis as unknown as { notReloaded?: boolean }).notReloaded), true, "no reload");
    const shot = artifactPath("console-e2e.png");
    await page.screenshot({ path: shot, fullPage: true });
    assert.ok((await fs.stat(shot)).size > 0);
    console.log(`# console end-to-end screenshot: ${shot}`);
  } finally {
    if (protection) e.github.protection.set("main", protection);
    await setSuspended(false).catch(() => undefined);
    await board.close();
    unreachable?.close();
    await e.main(); // the next test's pins start from what is merged
  }
});
