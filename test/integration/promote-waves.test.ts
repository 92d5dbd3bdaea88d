// Targets and waves: promote and the promoter against a real git server and the GitHub stand-in (no cluster).
// Wave 1 opens first; wave 2 is refused until prod-eu runs the digests and its GitHub Deployments say it has
// been healthy for waveSoak at that revision; then the promoter opens it.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { GitServer } from "../support/git-server.js";
import { GitHubDouble } from "../support/github-double.js";
import { ConfigRepo, webApp } from "../support/config-repo.js";
import { cloneConfigRepo, git } from "../support/example-repo.js";
import { promote } from "../../src/promote/promote.js";
import { runPolicy } from "../../src/promote/policy-run.js";
import { status } from "../../src/promote/status.js";
import { history } from "../../src/promote/history.js";
import { rollback } from "../../src/promote/rollback.js";
import { BatonError } from "../../src/errors.js";

const D0 = `sha256:${"0".repeat(64)}`;
const D1 = `sha256:${"1".repeat(64)}`;
let server: GitServer;
let github: GitHubDouble;
let seed: ConfigRepo;
let dev: string;
let wave2Number = 0;

// The shared web app's Deployment (the stand-in runs no cluster: only its image line matters here).
const deployment = (digest: string): string => webApp(`ghcr.io/acme/web@${digest}`)["deploy.yaml"] ?? "";

const BATON_YAML = `apiVersion: baton.dev/v1alpha1
kind: Pipeline
environments:
  - name: staging
    path: environments/staging
  - name: production
    promoteFrom: staging
    autoPromote: true
    waveSoak: 10m
    targets:
      - name: prod-eu
        path: environments/prod-eu
        wave: 1
      - name: prod-ap
        path: environments/prod-ap
        wave: 1
      - name: prod-us
        path: environments/prod-us
        wave: 2
`;

before(async () => {
  server = await GitServer.create({ auth: { username: "ci", password: "s3cret" } });
  github = await GitHubDouble.start(server);
  seed = await ConfigRepo.create(server, "acme/waves", {
    "baton.yaml": BATON_YAML,
    "environments/staging/web.yaml": deployment(D1),
    "environments/prod-eu/web.yaml": deployment(D0),
    "environments/prod-ap/web.yaml": deployment(D0),
    "environments/prod-us/web.yaml": deployment(D0),
  });
  dev = await cloneConfigRepo(server, "acme/waves", "Dev");
});
after(async () => {
  assert.deepEqual(github.violations, []);
  await github.stop();
  await seed.destroy();
  await server.destroy();
});

const gh = (remoteUrl: string | undefined) => github.connect(remoteUrl);
const notReady = (pattern: RegExp) => (e: unknown) => e instanceof BatonError && e.code === "PROMOTE_WAVE_NOT_READY" && pattern.test(e.message);
const filesOn = async (branch: string) => (await git(dev, "diff", "--name-only", "origin/main", `origin/${branch}`)).split("\n");
const minutes = (n: number) => () => new Date(Date.now() + n * 60_000);

test("wave 1 first, wave 2 only once every wave-1 target is healthy and soaked at the same digests", async () => {
  // The promoter opens wave 1: only the folders of prod-eu and prod-ap change.
  const first = await runPolicy({ repo: dev, github: gh(await git(dev, "remote", "get-url", "origin")), autoPromote: true });
  assert.deepEqual(first.autoPromoted.map((p) => [p.to, p.wave]), [["production", 1]]);
  const wave1 = github.pull(first.autoPromoted[0]?.pull as number);
  assert.equal(wave1.head, "baton/promote/production/wave-1/1111111");
  assert.equal(wave1.title, "Promote web@sha256:1111111 to production (wave 1: prod-eu, prod-ap)");
  assert.deepEqual([...wave1.labels].sort(), ["baton", "env:production", "promotion", "wave:1"]);
  await git(dev, "fetch", "--quiet", "origin");
  assert.deepEqual(await filesOn(wave1.head), ["environments/prod-ap/web.yaml", "environments/prod-eu/web.yaml"]);

  // Rerun by hand: the same wave-1 PR is updated; asking for wave 2 is refused while prod-eu runs the old digest.
  const again = await promote({ repo: dev, from: "staging", to: "production", github: gh });
  assert.deepEqual([again.action, again.pull?.number, again.wave?.number], ["updated", wave1.number, 1]);
  await assert.rejects(promote({ repo: dev, from: "staging", to: "production", wave: 2, github: gh }), notReady(/waits for prod-eu \(wave 1\), prod-ap \(wave 1\) to run these digests first/));
  await assert.rejects(promote({ repo: dev, from: "staging", to: "prod-us", github: gh }), notReady(/prod-eu \(wave 1\)/));

  // A deployment of prod-eu before the merge (old digest) does not count.
  const api = gh(await git(dev, "remote", "get-url", "origin"));
  const old = await api.createDeployment({ ref: "main", environment: "prod-eu", description: "applied" });
  await api.createDeploymentStatus(old.id, { state: "success", description: "healthy" });
  const merged = await api.mergePull(wave1.number, { method: "merge" });

  await assert.rejects(promote({ repo: dev, from: "staging", to: "production", github: gh, now: minutes(30) }), notReady(/wave 2 of production waits for wave 1: prod-eu has no successful deployment of its current revision yet/));
  const waiting = await runPolicy({ repo: dev, github: api, autoPromote: true, now: minutes(30) });
  assert.deepEqual(waiting.autoPromoted, []);
  assert.match(waiting.skipped.find((s) => s.to === "production")?.reason ?? "", /prod-eu has no successful deployment/);

  // What prod-eu's agent records after applying the merge and seeing it healthy.
  const applied = await api.createDeployment({ ref: merged.sha, environment: "prod-eu", description: "applied" });
  await api.createDeploymentStatus(applied.id, { state: "success", description: "healthy" });
  await assert.rejects(promote({ repo: dev, from: "staging", to: "production", github: gh, now: minutes(30) }), notReady(/: prod-ap has no successful deployment of its current revision yet$/));
  const appliedAp = await api.createDeployment({ ref: merged.sha, environment: "prod-ap", description: "applied" });
  await api.createDeploymentStatus(appliedAp.id, { state: "success", description: "healthy" });
  await assert.rejects(promote({ repo: dev, from: "staging", to: "production", github: gh, now: minutes(4) }), notReady(/prod-eu healthy for 4m.*; waveSoak needs 10m \(\d+m.* left\)/));

  // Soaked: the promoter opens wave 2, which edits only prod-us.
  const opened = await runPolicy({ repo: dev, github: api, autoPromote: true, now: minutes(11) });
  assert.deepEqual(opened.autoPromoted.map((p) => [p.to, p.wave]), [["production", 2]]);
  const wave2 = github.pull(opened.autoPromoted[0]?.pull as number);
  assert.equal(wave2.head, "baton/promote/production/wave-2/1111111");
  assert.deepEqual([...wave2.labels].sort(), ["baton", "env:production", "promotion", "wave:2"]);
  assert.match(wave2.body, /wave 2 of 2 of production: prod-us \(earlier waves: prod-eu, prod-ap healthy for at least 10m\)/);
  await git(dev, "fetch", "--quiet", "origin");
  assert.deepEqual(await filesOn(wave2.head), ["environments/prod-us/web.yaml"]);
  assert.equal(github.statuses.filter((s) => s.context === "baton/policy").at(-1)?.state, "success");

  // prod-eu turns unhealthy: the open wave-2 PR's required status goes back to pending.
  await api.createDeploymentStatus(applied.id, { state: "failure", description: "health check failed" });
  const recheck = await runPolicy({ repo: dev, github: api, now: minutes(12) });
  const verdict = recheck.evaluated.find((e) => e.pull === wave2.number);
  assert.equal(verdict?.state, "pending");
  assert.match(verdict?.description ?? "", /wave 2 waits: prod-eu has no successful deployment/);
  wave2Number = wave2.number;
});

test("status, history and rollback per target and per stage", async () => {
  const api = gh(await git(dev, "remote", "get-url", "origin"));
  const merged = await api.mergePull(wave2Number, { method: "merge" });
  await git(dev, "pull", "--quiet", "--ff-only");

  const stageStatus = await status(dev, undefined, undefined, "production");
  assert.deepEqual(stageStatus.environments.map((e) => [e.name, e.stage, e.wave, e.images.map((i) => i.digest)]), [
    ["prod-eu", "production", 1, [D1]], ["prod-ap", "production", 1, [D1]], ["prod-us", "production", 2, [D1]],
  ]);
  assert.deepEqual((await status(dev, undefined, undefined, "prod-us")).environments.map((e) => e.name), ["prod-us"]);

  // A stage's history: one row per target a commit changed, newest first.
  const rows = await history(dev, "production", { limit: 3 });
  assert.deepEqual(rows.map((r) => [r.target, r.kind]), [["prod-us", "promotion"], ["prod-eu", "promotion"], ["prod-ap", "promotion"]]);
  assert.equal(rows[0]?.pr, wave2Number);
  assert.equal(rows[0]?.commit, merged.sha);
  assert.equal(rows[1]?.commit, rows[2]?.commit);
  assert.deepEqual((await history(dev, "prod-ap")).map((r) => [r.target, r.kind]), [[undefined, "promotion"], [undefined, "commit"]]);

  // One target rolls back alone, although the wave's merge also changed prod-eu.
  const one = await rollback({ repo: dev, env: "prod-ap", github: gh });
  await git(dev, "fetch", "--quiet", "origin");
  assert.deepEqual(await filesOn(one.branch as string), [".baton/rejected.yaml", "environments/prod-ap/web.yaml"]);
  assert.deepEqual(one.rejected.map((r) => [r.env, r.digest]), [["prod-ap", D1]]);
  assert.match(await git(dev, "show", `origin/${one.branch}:environments/prod-ap/web.yaml`), new RegExp(`web@${D0}`));

  // The stage rolls back every target in one commit, reverting both waves' merges.
  const all = await rollback({ repo: dev, env: "production", github: gh });
  await git(dev, "fetch", "--quiet", "origin");
  assert.deepEqual(all.reverted.map((r) => r.sha), [merged.sha, rows[1]?.commit]);
  assert.deepEqual(await filesOn(all.branch as string), [".baton/rejected.yaml", "environments/prod-ap/web.yaml", "environments/prod-eu/web.yaml", "environments/prod-us/web.yaml"]);
  assert.deepEqual(all.rejected.map((r) => r.env).sort(), ["prod-ap", "prod-eu", "prod-us"]);
});
