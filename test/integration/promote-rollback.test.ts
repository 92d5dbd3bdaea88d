// rollback and unreject against a real git server: reverts land on real branches, rejected digests are enforced.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { promises as fs } from "node:fs";
import path from "node:path";
import { GitServer } from "../support/git-server.js";
import { GitHubDouble } from "../support/github-double.js";
import { cloneConfigRepo, git, seedConfigRepo } from "../support/example-repo.js";
import { pin } from "../../src/promote/pin.js";
import { promote } from "../../src/promote/promote.js";
import { rollback } from "../../src/promote/rollback.js";
import { unreject } from "../../src/promote/unreject.js";
import { history } from "../../src/promote/history.js";
import { status } from "../../src/promote/status.js";
import { parseRejected } from "../../src/promote/rejected.js";
import { parseBatonCommit } from "../../src/promote/trailers.js";
import { BatonError } from "../../src/errors.js";
import { parse } from "yaml";
import { loadPipeline } from "../../src/config/pipeline.js";
import { changeRelease, readReleaseState } from "../../src/promote/release.js";
import { ConfigRepo } from "../support/config-repo.js";

const D1 = `sha256:${"1".repeat(64)}`;
const D2 = `sha256:${"2".repeat(64)}`;
const OLD_STAGING = "sha256:4c58c90f14978d5f4dd361f5347b51ca8aa93e55e46c5e39dbb11ccdb91a7c2c";
let server: GitServer;
let github: GitHubDouble;

before(async () => {
  server = await GitServer.create();
  github = await GitHubDouble.start(server);
});
after(async () => {
  // Every request Baton sent and every response it got matched GitHub's OpenAPI description.
  assert.deepEqual(github.violations, []);
  await github.stop();
  await server.destroy();
});

const gh = (remoteUrl: string | undefined) => github.connect(remoteUrl);
const isCode = (code: string) => (e: unknown) => e instanceof BatonError && e.code === code;
const read = (dir: string, file: string) => fs.readFile(path.join(dir, file), "utf8");

test("rollback --push reverts the last pin, rejects its digest until unreject", async () => {
  await seedConfigRepo(server, "acme/rb1");
  const ci = await cloneConfigRepo(server, "acme/rb1", "CI");
  await pin({ repo: ci, env: "testing", images: [`web=ghcr.io/acme/web@${D1}`], mode: "commit" });
  await pin({ repo: ci, env: "testing", images: [`web=ghcr.io/acme/web@${D2}`], mode: "commit" });

  const ops = await cloneConfigRepo(server, "acme/rb1", "Ops");
  const dry = await rollback({ repo: ops, env: "testing", dryRun: true });
  assert.equal(dry.reverted.length, 1);
  assert.match(dry.diff, new RegExp(`^\\+.*@${D1}$`, "m"));
  const head = await git(ops, "rev-parse", "HEAD");
  assert.equal(await git(ops, "rev-parse", "origin/main"), head, "dry run pushes nothing");
  // --to reverts every promotion after the revision; --steps counts back.
  const seed = await git(ops, "rev-list", "--max-parents=0", "HEAD");
  assert.deepEqual((await rollback({ repo: ops, env: "testing", dryRun: true, to: seed })).reverted.map((r) => r.subject), ["Pin web@sha256:2222222 in testing", "Pin web@sha256:1111111 in testing"]);
  assert.equal((await rollback({ repo: ops, env: "testing", dryRun: true, steps: 2 })).reverted.length, 2);
  await assert.rejects(rollback({ repo: ops, env: "testing", dryRun: true, to: head }), isCode("ROLLBACK_NOTHING"));

  const done = await rollback({ repo: ops, env: "testing", push: true, now: () => new Date("2026-01-02T03:04:05Z") });
  assert.equal(done.action, "pushed");
  const check = await cloneConfigRepo(server, "acme/rb1", "Check");
  assert.match(await read(check, "environments/testing/web.yaml"), new RegExp(`image: ghcr.io/acme/web@${D1}\\n`));
  assert.deepEqual(parseRejected(await read(check, ".baton/rejected.yaml")), {
    testing: [{ repository: "ghcr.io/acme/web", digest: D2, reason: `rolled back (reverted ${dry.reverted[0]?.sha.slice(0, 7)})`, at: "2026-01-02T03:04:05.000Z" }],
  });
  // One commit holds both the revert and the rejected list, with trailers history can read.
  assert.equal(await git(check, "show", "--name-only", "--format=", "HEAD"), ".baton/rejected.yaml\nenvironments/testing/web.yaml");
  const parsed = parseBatonCommit(await git(check, "log", "-1", "--format=%B"));
  assert.equal(parsed.kind, "rollback");
  assert.deepEqual(parsed.reverts, [dry.reverted[0]?.sha]);
  assert.deepEqual(parsed.images, [{ repository: "ghcr.io/acme/web", digest: D1 }]);

  // The rejected digest is refused until unreject; the next rollback goes one further back.
  await assert.rejects(pin({ repo: check, env: "testing", images: [`web=ghcr.io/acme/web@${D2}`], mode: "commit" }), isCode("PROMOTE_REJECTED_DIGEST"));
  const second = await rollback({ repo: check, env: "testing", dryRun: true });
  assert.match(second.reverted[0]?.subject ?? "", /Pin web@sha256:1111111 in testing/);
  await unreject({ repo: check, env: "testing", image: `ghcr.io/acme/web@${D2}`, push: true });
  assert.equal((await pin({ repo: check, env: "testing", images: [`web=ghcr.io/acme/web@${D2}`], mode: "commit" })).action, "pushed");
  await assert.rejects(unreject({ repo: check, env: "testing", image: `ghcr.io/acme/web@${D2}` }), isCode("PIN_NOT_FOUND"));
});

test("rollback of a merged promotion opens a rollback PR; promote then refuses the digest", async () => {
  await seedConfigRepo(server, "acme/rb2");
  const ci = await cloneConfigRepo(server, "acme/rb2", "CI");
  await pin({ repo: ci, env: "testing", images: [`web=ghcr.io/acme/web@${D1}`], mode: "commit" });
  const dev = await cloneConfigRepo(server, "acme/rb2", "Dev");
  const promoted = await promote({ repo: dev, from: "testing", to: "staging", github: gh });
  const open = await status(dev, async () => gh(await git(dev, "remote", "get-url", "origin")));
  assert.deepEqual(open.environments.find((e) => e.name === "staging")?.openPulls.map((p) => p.number), [promoted.pull?.number]);
  // Merge the PR through GitHub's API (a real merge commit on main, made by the stand-in).
  await gh(await git(dev, "remote", "get-url", "origin")).mergePull(promoted.pull?.number ?? 0, { method: "merge" });
  await git(dev, "pull", "--quiet", "--ff-only");

  await assert.rejects(rollback({ repo: dev, env: "staging", push: true }), isCode("PROMOTE_DIRECT_PUSH"));
  const rb = await rollback({ repo: dev, env: "staging", github: gh });
  assert.equal(rb.action, "opened");
  assert.match(rb.branch ?? "", /^baton\/rollback\/staging\/[0-9a-f]{7}$/);
  const pr = github.pulls.find((p) => p.number === rb.pull?.number);
  assert.deepEqual(pr?.labels.sort(), ["baton", "env:staging", "rollback"]);
  assert.equal(pr?.title, "Roll back web@sha256:1111111 in staging");
  await git(dev, "fetch", "--quiet", "origin");
  assert.match(await git(dev, "show", `origin/${rb.branch}:environments/staging/web.yaml`), new RegExp(`@${OLD_STAGING}\\n`));
  assert.equal(await git(dev, "rev-parse", "--abbrev-ref", "HEAD"), "main");

  // Merge the rollback; promoting the rejected digest again is refused.
  await gh(await git(dev, "remote", "get-url", "origin")).mergePull(rb.pull?.number ?? 0, { method: "merge" });
  await git(dev, "pull", "--quiet", "--ff-only");
  await assert.rejects(promote({ repo: dev, from: "testing", to: "staging", github: gh }), isCode("PROMOTE_REJECTED_DIGEST"));

  // history: newest first, merges attributed to their PR, digests from trailers (or files for the seed commit).
  const entries = await history(dev, "staging");
  assert.deepEqual(entries.map((e) => [e.kind, e.pr, e.digests.map((d) => d.digest), e.changes.map((c) => c.to)]), [
    ["rollback", rb.pull?.number, [OLD_STAGING], [OLD_STAGING]],
    ["promotion", promoted.pull?.number, [D1], [D1]],
    ["commit", undefined, [OLD_STAGING], [OLD_STAGING]],
  ]);
  assert.equal(entries[1]?.from, "testing");
  assert.equal(entries[1]?.author, "baton-bot", "a merge is attributed to who merged it (here Baton's token)");

  // status: pins per environment, the rejected flag and no open PRs once merged.
  const report = await status(dev, async () => gh(await git(dev, "remote", "get-url", "origin")));
  assert.equal(report.github, "ok");
  assert.deepEqual(report.environments.map((e) => [e.name, e.images.map((i) => i.digest), e.openPulls.length]), [
    ["testing", [D1], 0], ["staging", [OLD_STAGING], 0], ["production", [OLD_STAGING], 0],
  ]);
  // Without a token the GitHub part is skipped silently.
  assert.equal((await status(dev)).github, "skipped");
});

test("a rollback that conflicts names the later commit in the way and leaves the clone untouched", async () => {
  await seedConfigRepo(server, "acme/rb3");
  const ci = await cloneConfigRepo(server, "acme/rb3", "CI");
  await pin({ repo: ci, env: "testing", images: [`web=ghcr.io/acme/web@${D1}`], mode: "commit" });
  // A hand edit of the same line, not a Baton commit.
  const file = path.join(ci, "environments/testing/web.yaml");
  await fs.writeFile(file, (await fs.readFile(file, "utf8")).replace(`web@${D1}`, `web:hotfix@${D1}`));
  await git(ci, "commit", "--quiet", "-am", "Hand-tag the testing image");
  await git(ci, "push", "--quiet", "origin", "main");
  const head = await git(ci, "rev-parse", "HEAD");
  await assert.rejects(rollback({ repo: ci, env: "testing", push: true }), (e: unknown) =>
    e instanceof BatonError && e.code === "ROLLBACK_CONFLICT" && /later commit [0-9a-f]{7} "Hand-tag the testing image"/.test(e.message) && e.file === "environments/testing/web.yaml");
  assert.equal(await git(ci, "rev-parse", "HEAD"), head);
  assert.equal(await git(ci, "status", "--porcelain"), "");
  assert.equal(await git(ci, "rev-parse", "origin/main"), head);
});

test("history and rollback work from content: a squash that lost the trailers, a rebase merge, a hand edit", async () => {
  await seedConfigRepo(server, "acme/rb4");
  const dev = await cloneConfigRepo(server, "acme/rb4", "Dev");
  const api = gh(server.url("acme/rb4"));
  const mergeVia = async (number: number | undefined, method: "merge" | "squash" | "rebase") => {
    await api.mergePull(number ?? 0, { method });
    await git(dev, "pull", "--quiet", "--ff-only");
  };
  const stagingImage = async () => /@(sha256:[0-9a-f]{64})/.exec(await read(dev, "environments/staging/web.yaml"))?.[1];
  await pin({ repo: dev, env: "testing", images: [`web=ghcr.io/acme/web@${D1}`], mode: "commit" });
  // Squash with "PR title / PR body": the commit on main carries none of Baton's trailers.
  github.settings = { ...github.settings, squash_merge_commit_title: "PR_TITLE", squash_merge_commit_message: "PR_BODY" };
  try {
    const promoted = await promote({ repo: dev, from: "testing", to: "staging", github: gh });
    await mergeVia(promoted.pull?.number, "squash");
    assert.deepEqual(parseBatonCommit(await git(dev, "log", "-1", "--format=%B")).images, [], "the squash dropped the trailers");
    assert.equal(await stagingImage(), D1);

    // Roll the squashed promotion back; the rollback PR lands as a rebase merge (new SHAs, no merge commit).
    const rb = await rollback({ repo: dev, env: "staging", github: gh });
    assert.deepEqual(rb.reverted.map((r) => r.images), [[{ repository: "ghcr.io/acme/web", digest: D1 }]]);
    await mergeVia(rb.pull?.number, "rebase");
    assert.equal(await stagingImage(), OLD_STAGING);

    // A person edits the digest by hand, straight on main; rollback reverts that too.
    const file = path.join(dev, "environments/staging/web.yaml");
    await fs.writeFile(file, (await read(dev, "environments/staging/web.yaml")).replace(OLD_STAGING, D2));
    await git(dev, "commit", "--quiet", "-am", "Hotfix: run the patched build");
    await git(dev, "push", "--quiet", "origin", "main");
    const hand = await git(dev, "rev-parse", "HEAD");
    const rb2 = await rollback({ repo: dev, env: "staging", github: gh });
    assert.deepEqual(rb2.reverted.map((r) => [r.sha, r.images]), [[hand, [{ repository: "ghcr.io/acme/web", digest: D2 }]]]);
    await mergeVia(rb2.pull?.number, "merge");
    assert.equal(await stagingImage(), OLD_STAGING);
    assert.deepEqual(parseRejected(await read(dev, ".baton/rejected.yaml")).staging?.map((r) => r.digest), [D1, D2]);
    // Nothing left to roll back: the squashed promotion and the hand edit were both undone.
    await assert.rejects(rollback({ repo: dev, env: "staging", dryRun: true }), isCode("ROLLBACK_NOTHING"));

    const entries = await history(dev, "staging", { github: api });
    assert.deepEqual(entries.map((e) => [e.kind, e.pr, e.digests.map((d) => d.digest)]), [
      ["rollback", rb2.pull?.number, [OLD_STAGING]],
      ["commit", undefined, [D2]],
      ["rollback", rb.pull?.number, [OLD_STAGING]],
      ["promotion", promoted.pull?.number, [D1]],
      ["commit", undefined, [OLD_STAGING]],
    ]);
    assert.equal(entries[1]?.subject, "Hotfix: run the patched build");
  } finally {
    github.settings = { ...github.settings, squash_merge_commit_title: "COMMIT_OR_PR_TITLE", squash_merge_commit_message: "COMMIT_MESSAGES" };
  }
});

test("a strategy environment: history labels confirm/abort/rollback, rollback rewrites release.yaml instead of conflicting on it", async () => {
  const A = `sha256:${"a".repeat(64)}`, B = `sha256:${"b".repeat(64)}`, C = `sha256:${"c".repeat(64)}`;
  const web = `apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  replicas: 2\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers: [{name: web, image: "ghcr.io/acme/web@${A}"}]\n---\napiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  selector: {app: web}\n  ports: [{port: 80}]\n`;
  const repo = await ConfigRepo.create(server, "acme/rb5", {
    "baton.yaml": "apiVersion: baton.dev/v1alpha1\nkind: Pipeline\nenvironments:\n  - name: production\n    path: environments/production\n    allowDirectPush: true\n    strategy: {type: canary, router: service, route: web, steps: [{setWeight: 50}, {pause: {}}], retireAfter: 1h}\n",
    "environments/production/web.yaml": web,
  });
  const dev = repo.dir;
  const api = gh(server.url("acme/rb5"));
  const release = async () => parse(await read(dev, "environments/production/release.yaml")) as { stable: { slot: string; images: Record<string, string> }; step?: number; previous?: unknown; outcome?: string };
  const state = async () => (await readReleaseState(dev, await loadPipeline(dev), "production")).state; // renders: release.yaml agrees with the pins
  const kinds = async () => (await history(dev, "production")).map((e) => [e.kind, e.release, e.digests.map((d) => d.digest)]);
  github.settings = { ...github.settings, squash_merge_commit_title: "PR_TITLE", squash_merge_commit_message: "PR_BODY" };
  try {
    // A release in progress past its first step: the confirm commit changed release.yaml after the pin.
    await pin({ repo: dev, env: "production", images: [`web=ghcr.io/acme/web@${B}`], mode: "commit" });
    const confirmed = await changeRelease({ repo: dev, env: "production", action: "confirm", github: gh });
    await api.mergePull(confirmed.pull?.number ?? 0, { method: "squash" }); // the squash keeps no trailers
    await git(dev, "pull", "--quiet", "--ff-only", "origin", "main");
    assert.equal((await release()).step, 1);
    const rb = await rollback({ repo: dev, env: "production", push: true });
    assert.deepEqual(rb.rejected.map((r) => r.digest), [B]);
    assert.deepEqual(await release(), { apiVersion: "baton.dev/v1alpha1", kind: "Release", stable: { slot: "blue", images: { "ghcr.io/acme/web": A } }, outcome: "Aborted" });
    assert.deepEqual([(await state()).step, (await state()).pinnedImages], [undefined, { "ghcr.io/acme/web": A }]);
    assert.deepEqual(await kinds(), [["rollback", undefined, [A]], ["confirm", undefined, [B]], ["pin", undefined, [B]], ["commit", undefined, [A]]]);

    // A completed release whose old slot still runs A: rollback flips traffic back to it, no rollout.
    await pin({ repo: dev, env: "production", images: [`web=ghcr.io/acme/web@${C}`], mode: "commit" });
    await changeRelease({ repo: dev, env: "production", action: "confirm", all: true, push: true });
    assert.deepEqual([(await release()).stable.slot, (await release()).previous], ["green", { images: { "ghcr.io/acme/web": A } }]);
    await rollback({ repo: dev, env: "production", push: true });
    assert.deepEqual(await release(), { apiVersion: "baton.dev/v1alpha1", kind: "Release", stable: { slot: "blue", images: { "ghcr.io/acme/web": A } } });
    assert.equal((await state()).stableSlot, "blue");
    assert.deepEqual((await kinds()).slice(0, 3), [["rollback", undefined, [A]], ["confirm", "complete", [C]], ["pin", undefined, [C]]]);
  } finally {
    github.settings = { ...github.settings, squash_merge_commit_title: "COMMIT_OR_PR_TITLE", squash_merge_commit_message: "COMMIT_MESSAGES" };
    await repo.destroy();
  }
});
