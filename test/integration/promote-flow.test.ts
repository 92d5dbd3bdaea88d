// promote and pin against a real git smart-HTTP server and a local GitHub double reached through octokit.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { promises as fs } from "node:fs";
import path from "node:path";
import { GitServer } from "../support/git-server.js";
import { GitHubDouble } from "../support/github-double.js";
import { cloneConfigRepo, git, seedConfigRepo } from "../support/example-repo.js";
import { promote } from "../../src/promote/promote.js";
import { pin } from "../../src/promote/pin.js";
import { parseBatonCommit } from "../../src/promote/trailers.js";
import { BatonError } from "../../src/errors.js";
import { changeRelease } from "../../src/promote/release.js";
import { ConfigRepo } from "../support/config-repo.js";

const D1 = `sha256:${"1".repeat(64)}`;
const D2 = `sha256:${"2".repeat(64)}`;
let server: GitServer;
let github: GitHubDouble;

before(async () => {
  server = await GitServer.create({ auth: { username: "ci", password: "s3cret" } });
  github = await GitHubDouble.start(server);
  await seedConfigRepo(server);
});
after(async () => {
  // Every request Baton sent and every response it got matched GitHub's OpenAPI description.
  assert.deepEqual(github.violations, []);
  await github.stop();
  await server.destroy();
});

const gh = (remoteUrl: string | undefined) => github.connect(remoteUrl);
const isCode = (code: string) => (e: unknown) => e instanceof BatonError && e.code === code;

test("pin, promote, rerun, supersede: real branches, one open PR per target", async () => {
  const ci = await cloneConfigRepo(server, "acme/config", "CI");
  // CI pins a fresh build straight into the first environment.
  const pinned = await pin({ repo: ci, env: "testing", images: [`web=ghcr.io/acme/web:1.6.0@${D1}`], mode: "commit" });
  assert.equal(pinned.action, "pushed");
  const dev = await cloneConfigRepo(server, "acme/config", "Dev");
  assert.match(await fs.readFile(path.join(dev, "environments/testing/web.yaml"), "utf8"), new RegExp(`ghcr.io/acme/web:1.6.0@${D1}`));
  assert.equal(parseBatonCommit(await git(dev, "log", "-1", "--format=%B")).env, "testing");

  // Dry run: no branch, no PR, no network to GitHub.
  const before = github.requests.length;
  const dry = await promote({ repo: dev, from: "testing", to: "staging", dryRun: true });
  assert.equal(dry.action, "dry-run");
  assert.equal(github.requests.length, before);
  assert.match(dry.diff, /^\+ +image: ghcr\.io\/acme\/web:1\.6\.0@sha256:1{64}$/m);

  const first = await promote({ repo: dev, from: "testing", to: "staging", github: gh });
  assert.equal(first.action, "opened");
  assert.equal(first.branch, "baton/promote/staging/1111111");
  const pr1 = github.pulls.find((p) => p.number === first.pull?.number);
  assert.equal(pr1?.title, "Promote web@sha256:1111111 to staging");
  assert.equal(pr1?.base, "main");
  assert.deepEqual(pr1?.labels.sort(), ["baton", "env:staging", "promotion"]);
  assert.match(pr1?.body ?? "", /\| web \(`ghcr.io\/acme\/web`\) \| `4c58c90` \| `1111111` \| 1\.6\.0 \|/);
  // No deployment of testing is known yet, so staging's 10m soak keeps the required status pending.
  assert.deepEqual(github.statuses.map((s) => [s.sha, s.state, s.context]), [[first.commit, "pending", "baton/policy"]]);
  assert.match(github.statuses[0]?.description ?? "", /testing is not healthy/);

  // Read the pushed branch back from the server: one commit on main, touching only the digest line.
  const check = await cloneConfigRepo(server, "acme/config", "Check");
  await git(check, "fetch", "--quiet", "origin", first.branch);
  assert.equal(await git(check, "rev-list", "--count", "origin/main..FETCH_HEAD"), "1");
  assert.equal(await git(check, "diff", "--name-only", "origin/main", "FETCH_HEAD"), "environments/staging/web.yaml");
  assert.equal(await git(check, "diff", "--numstat", "origin/main", "FETCH_HEAD"), "1\t1\tenvironments/staging/web.yaml");
  const parsed = parseBatonCommit(await git(check, "log", "-1", "--format=%B", "FETCH_HEAD"));
  assert.deepEqual({ kind: parsed.kind, from: parsed.from, env: parsed.env, images: parsed.images }, { kind: "promotion", from: "testing", env: "staging", images: [{ repository: "ghcr.io/acme/web", digest: D1 }] });
  assert.equal(await git(check, "log", "-1", "--format=%an", "FETCH_HEAD"), "Dev");
  // The clone is left on main and clean.
  assert.equal(await git(dev, "rev-parse", "--abbrev-ref", "HEAD"), "main");
  assert.equal(await git(dev, "status", "--porcelain"), "");

  // Rerunning the same promotion updates the open PR instead of opening another.
  const again = await promote({ repo: dev, from: "testing", to: "staging", github: gh });
  assert.equal(again.action, "updated");
  assert.equal(again.pull?.number, first.pull?.number);
  assert.equal(github.pulls.filter((p) => p.state === "open").length, 1);

  // A newer build, promoted into the same environment, supersedes the older PR.
  await pin({ repo: ci, env: "testing", images: [`web=ghcr.io/acme/web:1.7.0@${D2}`], mode: "commit" });
  const second = await promote({ repo: dev, from: "testing", to: "staging", github: gh });
  assert.equal(second.action, "opened");
  assert.deepEqual(second.superseded, [first.pull?.number]);
  assert.equal(pr1?.state, "closed");
  assert.deepEqual(pr1?.comments, [`Superseded by #${second.pull?.number}`]);
  assert.deepEqual(github.pulls.filter((p) => p.state === "open").map((p) => p.head), ["baton/promote/staging/2222222"]);
});

test("policy and safety errors come before any git or GitHub change", async () => {
  const dev = await cloneConfigRepo(server, "acme/config", "Dev");
  const requests = github.requests.length;
  await assert.rejects(promote({ repo: dev, from: "testing", to: "production", github: gh }), isCode("PROMOTE_ORDER"));
  await assert.rejects(promote({ repo: dev, from: "testing", to: "production", skipStage: true, github: gh }), isCode("USAGE"));
  await assert.rejects(pin({ repo: dev, env: "production", images: [`web=ghcr.io/acme/web@${D1}`], mode: "commit" }), isCode("PROMOTE_DIRECT_PUSH"));
  await assert.rejects(promote({ repo: dev, from: "testing", to: "staging" }), isCode("GITHUB_TOKEN_MISSING"));
  await fs.appendFile(path.join(dev, "environments/staging/config.yaml"), "# local edit\n");
  await assert.rejects(promote({ repo: dev, from: "testing", to: "staging", github: gh }), isCode("GIT_DIRTY"));
  assert.equal(github.requests.length, requests);
  assert.equal(await git(dev, "ls-remote", "--heads", "origin", "baton/promote/production/*"), "");
  // --skip-stage with a reason is allowed and the reason lands in the PR and the commit.
  await git(dev, "checkout", "--", ".");
  const skipped = await promote({ repo: dev, from: "testing", to: "production", skipStage: true, reason: "hotfix for incident 42", github: gh });
  assert.equal(skipped.action, "opened");
  assert.match(github.pulls.find((p) => p.number === skipped.pull?.number)?.body ?? "", /Reason given: hotfix for incident 42/);
  assert.equal(parseBatonCommit(await git(dev, "log", "-1", "--format=%B", `origin/${skipped.branch}`)).skipStageReason, "hotfix for incident 42");
});

test("pin --pr opens a pin PR labelled for the environment and leaves main alone", async () => {
  const ci = await cloneConfigRepo(server, "acme/config", "CI");
  const main = await git(ci, "rev-parse", "origin/main");
  const D3 = `sha256:${"3".repeat(64)}`;
  const r = await pin({ repo: ci, env: "testing", images: [`web=ghcr.io/acme/web@${D3}`], mode: "pr", github: gh });
  assert.equal(r.action, "opened");
  assert.equal(r.branch, "baton/pin/testing/3333333");
  const pr = github.pulls.find((p) => p.number === r.pull?.number);
  assert.equal(pr?.title, "Pin web@sha256:3333333 in testing");
  assert.deepEqual(pr?.labels.sort(), ["baton", "env:testing", "pin"]);
  assert.equal(await git(ci, "ls-remote", "origin", "refs/heads/main"), `${main}\trefs/heads/main`);
  assert.match(await git(ci, "show", `origin/${r.branch}:environments/testing/web.yaml`), new RegExp(`web@${D3}\n`));
});

test("the baton/policy status turns success once the source has soaked (GitHub deployments)", async () => {
  const dev = await cloneConfigRepo(server, "acme/config", "Dev");
  const api = gh(await git(dev, "remote", "get-url", "origin"));
  // What the agent records after applying testing and seeing it healthy.
  const deployment = await api.createDeployment({ ref: "main", environment: "testing", description: "applied" });
  await api.createDeploymentStatus(deployment.id, { state: "success", description: "healthy" });
  const early = await promote({ repo: dev, from: "testing", to: "staging", github: gh, now: () => new Date(Date.now() + 60_000) });
  assert.equal(early.policy?.state, "pending");
  assert.match(early.policy?.description ?? "", /soak needs 10m/);
  const later = await promote({ repo: dev, from: "testing", to: "staging", github: gh, now: () => new Date(Date.now() + 11 * 60_000) });
  assert.equal(later.action, "updated");
  assert.equal(later.policy?.state, "success");
  const last = github.statuses[github.statuses.length - 1];
  assert.deepEqual([last?.sha, last?.state, last?.context], [later.commit, "success", "baton/policy"]);
  assert.match(github.pulls.find((p) => p.number === later.pull?.number)?.body ?? "", /latest deployment of testing: .* is \*\*success\*\*/);
});

test("the GitHub repository is derived from the origin remote", () => {
  assert.deepEqual([...github.repositories], ["acme/config"]);
});

test("confirm and abort PRs are keyed on the release: reruns update the open PR, a new release supersedes it", async () => {
  const web = (image: string) => `apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  replicas: 2\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers: [{name: web, image: "${image}"}]\n---\napiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  selector: {app: web}\n  ports: [{port: 80}]\n`;
  const repo = await ConfigRepo.create(server, "acme/release", {
    "baton.yaml": "apiVersion: baton.dev/v1alpha1\nkind: Pipeline\nenvironments:\n  - name: production\n    path: environments/production\n    strategy: {type: canary, router: service, route: web, steps: [{setWeight: 20}, {pause: {}}, {setWeight: 60}]}\n",
    "environments/production/web.yaml": web(`ghcr.io/acme/web@${D1}`),
  });
  const D4 = `sha256:${"4".repeat(64)}`;
  const D5 = `sha256:${"5".repeat(64)}`;
  const open = (head: string) => github.pulls.filter((p) => p.repository === "acme/release" && p.state === "open" && p.head.startsWith(head)).map((p) => p.number);
  try {
    await pin({ repo: repo.dir, env: "production", images: [`web=ghcr.io/acme/web@${D4}`], mode: "commit" });
    const first = await changeRelease({ repo: repo.dir, env: "production", action: "confirm", github: gh });
    assert.deepEqual([first.action, first.branch], ["opened", "baton/confirm/production/4444444"]);
    // A second confirm before the first is merged: the same branch and PR, not a duplicate.
    const second = await changeRelease({ repo: repo.dir, env: "production", action: "confirm", github: gh });
    assert.deepEqual([second.action, second.pull?.number], ["updated", first.pull?.number]);
    const all = await changeRelease({ repo: repo.dir, env: "production", action: "confirm", all: true, github: gh });
    assert.deepEqual([all.action, all.pull?.number], ["updated", first.pull?.number]);
    assert.match(github.pull(first.pull?.number ?? 0).title, /: complete: all traffic on the new version$/);
    assert.deepEqual(open("baton/confirm/"), [first.pull?.number]);
    const abort = await changeRelease({ repo: repo.dir, env: "production", action: "abort", github: gh });
    const again = await changeRelease({ repo: repo.dir, env: "production", action: "abort", github: gh });
    assert.deepEqual([abort.action, abort.branch, again.action, again.pull?.number], ["opened", "baton/abort/production/4444444", "updated", abort.pull?.number]);
    assert.deepEqual(open("baton/abort/"), [abort.pull?.number]);

    // The next release (a new digest): its confirm and abort PRs close the first release's, which can no longer apply.
    await pin({ repo: repo.dir, env: "production", images: [`web=ghcr.io/acme/web@${D5}`], mode: "commit" });
    const next = await changeRelease({ repo: repo.dir, env: "production", action: "confirm", github: gh });
    assert.deepEqual([next.action, next.branch, next.superseded], ["opened", "baton/confirm/production/5555555", [first.pull?.number]]);
    const nextAbort = await changeRelease({ repo: repo.dir, env: "production", action: "abort", github: gh });
    assert.deepEqual(nextAbort.superseded, [abort.pull?.number]);
    assert.deepEqual([open("baton/confirm/"), open("baton/abort/")], [[next.pull?.number], [nextAbort.pull?.number]]);
  } finally {
    await repo.destroy();
  }
});
