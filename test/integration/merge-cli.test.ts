// `baton merge` as users run it (spawned: the git server and the GitHub stand-in live in this process):
// Baton's own baton/policy check first, then GitHub's branch protection, each refusal one line with exit 1.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promises as fs } from "node:fs";
import path from "node:path";
import { loadPipeline } from "../../src/config/pipeline.js";
import { codeownersBlock } from "../../src/promote/codeowners.js";
import { pin } from "../../src/promote/pin.js";
import { runPolicy } from "../../src/promote/policy-run.js";
import { promote } from "../../src/promote/promote.js";
import { GitServer } from "../support/git-server.js";
import { DEFAULT_SETTINGS, GitHubDouble } from "../support/github-double.js";
import { cloneConfigRepo, git, seedConfigRepo } from "../support/example-repo.js";
import { cliArgs } from "../support/cli.js";

const root = path.resolve(import.meta.dirname, "../..");
let server: GitServer;
let github: GitHubDouble;

before(async () => {
  server = await GitServer.create();
  github = await GitHubDouble.start(server);
  await seedConfigRepo(server, "acme/merge");
});
after(async () => {
  assert.deepEqual(github.violations, []);
  await github.stop();
  await server.destroy();
});

function baton(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, GITHUB_TOKEN: github.token, GITHUB_API_URL: github.baseUrl, BATON_GITHUB_WRITE_INTERVAL_MS: "0" };
  return new Promise((resolve) => {
    execFile(process.execPath, cliArgs(...args), { cwd: root, env, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

test("baton merge: baton/policy first, then GitHub's branch protection as one line, then a merge with a method the repo allows", async () => {
  const dir = await cloneConfigRepo(server, "acme/merge", "Dev");
  const gh = (remoteUrl: string | undefined) => github.connect(remoteUrl);
  // Code owners of staging on the base branch; main requires baton/policy, one approval and code-owner review.
  await fs.mkdir(path.join(dir, ".github"), { recursive: true });
  await fs.writeFile(path.join(dir, ".github/CODEOWNERS"), codeownersBlock(await loadPipeline(dir)));
  await git(dir, "add", ".github");
  await git(dir, "commit", "--quiet", "-m", "Code owners from baton.yaml");
  await git(dir, "push", "--quiet", "origin", "main");
  await pin({ repo: dir, env: "testing", images: [`web=ghcr.io/acme/web@sha256:${"1".repeat(64)}`], mode: "commit" });
  const promoted = await promote({ repo: dir, from: "testing", to: "staging", github: gh });
  const number = promoted.pull?.number ?? 0;
  github.protection.set("main", { requiredContexts: ["baton/policy"], requiredApprovingReviewCount: 1, requireCodeOwnerReviews: true });
  github.teams.set("acme/qa", ["alice"]);
  github.settings = { ...github.settings, allow_merge_commit: false };

  const pending = await baton(["merge", "staging", "--repo", dir]);
  assert.equal(pending.code, 1);
  assert.equal(pending.stderr.trim().split("\n").length, 1, pending.stderr);
  assert.match(pending.stderr, new RegExp(`^error: #${number}: baton/policy is pending: testing is not healthy.*\\(MERGE_POLICY_PENDING\\)`));

  // Soak passed (as `baton policy` would report it); GitHub now names the missing code-owner review.
  await gh(server.url("acme/merge")).setCommitStatus(promoted.commit ?? "", { state: "success", context: "baton/policy", description: "soaked" });
  await github.review(number, "bob");
  const review = await baton(["merge", `#${number}`, "--repo", dir]);
  assert.equal(review.code, 1);
  assert.equal(review.stderr.trim().split("\n").length, 1, review.stderr);
  assert.match(review.stderr, new RegExp(`^error: GitHub refused to merge #${number} \\(squash\\): Waiting on code owner review from @acme/qa\\. \\(GITHUB_MERGE_REFUSED\\)`));
  const notAllowed = await baton(["merge", "staging", "--method", "merge", "--repo", dir]);
  assert.equal(notAllowed.code, 1);
  assert.match(notAllowed.stderr, /does not allow merge merges \(allowed: squash, rebase\).*— use --method squash/);

  await github.review(number, "alice");
  const merged = await baton(["merge", "staging", "--repo", dir, "-o", "json"]);
  assert.equal(merged.code, 0, merged.stderr);
  const outcome = JSON.parse(merged.stdout) as { pull: number; method: string; sha: string; env: string; kind: string };
  assert.deepEqual([outcome.pull, outcome.method, outcome.env, outcome.kind], [number, "squash", "staging", "promotion"]);
  assert.equal(await git(dir, "ls-remote", "origin", "refs/heads/main").then((l) => l.split("\t")[0]), outcome.sha);
  assert.equal(github.pull(number).merged, true);
});

test("autoMerge: baton policy merges through GitHub only once baton/policy is success and branch protection is satisfied", async () => {
  await seedConfigRepo(server, "acme/automerge");
  const dir = await cloneConfigRepo(server, "acme/automerge", "Dev");
  const api = github.connect(server.url("acme/automerge"));
  // staging merges by itself (soak 10m from baton.yaml); testing is a plain environment.
  await fs.writeFile(path.join(dir, "baton.yaml"), (await fs.readFile(path.join(dir, "baton.yaml"), "utf8")).replace("    soak: 10m\n", "    soak: 10m\n    autoMerge: true\n"));
  await fs.mkdir(path.join(dir, ".github"), { recursive: true });
  await fs.writeFile(path.join(dir, ".github/CODEOWNERS"), codeownersBlock(await loadPipeline(dir)));
  await git(dir, "add", "-A");
  await git(dir, "commit", "--quiet", "-m", "staging merges itself; code owners");
  await git(dir, "push", "--quiet", "origin", "main");
  github.settings = { ...DEFAULT_SETTINGS };
  github.protection.set("main", { requiredContexts: ["baton/policy"], requiredApprovingReviewCount: 1, requireCodeOwnerReviews: true });
  github.teams.set("acme/qa", ["alice"]);
  await pin({ repo: dir, env: "testing", images: [`web=ghcr.io/acme/web@sha256:${"2".repeat(64)}`], mode: "commit" });
  const promoted = await promote({ repo: dir, from: "testing", to: "staging", github: () => api });
  const number = promoted.pull?.number ?? 0;
  assert.ok(number > 0);
  const mainHead = () => git(dir, "ls-remote", "origin", "refs/heads/main").then((l) => l.split("\t")[0]);
  const before = await mainHead();

  // Policy holds it: testing has no successful deployment yet, so nothing is even tried.
  const held = await runPolicy({ repo: dir, github: api });
  assert.deepEqual(held.evaluated.map((x) => [x.pull, x.state]), [[number, "pending"]]);
  assert.deepEqual([held.merged, held.mergeWaiting], [[], []]);
  assert.equal(github.pull(number).merged, false);
  assert.ok(!github.requests.some((r) => r.endsWith(`/pulls/${number}/merge`)), "no merge request while policy is pending");

  // testing deployed and healthy; 11 minutes later the soak has passed: policy success, and the promoter asks
  // GitHub to merge — branch protection still wants the code owner's approval, so it waits, nothing merges.
  const deployment = await api.createDeployment({ ref: await mainHead() ?? "", environment: "testing", description: "agent applied" });
  await api.createDeploymentStatus(deployment.id, { state: "success", description: "Ready" });
  const later = () => new Date(Date.now() + 11 * 60_000);
  const waiting = await runPolicy({ repo: dir, github: api, now: later });
  assert.deepEqual(waiting.evaluated.map((x) => [x.pull, x.state]), [[number, "success"]]);
  assert.deepEqual(waiting.merged, []);
  assert.deepEqual(waiting.mergeWaiting.map((w) => w.pull), [number]);
  assert.match(waiting.mergeWaiting[0]?.reason ?? "", /At least 1 approving review is required/);
  assert.equal(github.pull(number).merged, false);
  assert.equal(await mainHead(), before);

  // The code owner approves: the next run merges through the API with the first method the repo allows.
  await github.review(number, "alice");
  const merged = await runPolicy({ repo: dir, github: api, now: later });
  assert.deepEqual(merged.merged.map((m) => [m.pull, m.to, m.method]), [[number, "staging", "merge"]]);
  assert.equal(github.pull(number).merged, true);
  assert.equal(await mainHead(), merged.merged[0]?.sha);
  await git(dir, "fetch", "--quiet", "origin");
  assert.match(await git(dir, "log", "-1", "--format=%s", merged.merged[0]?.sha ?? ""), new RegExp(`^Merge pull request #${number} from `));
});
