// The GitHub stand-in behaves as GitHub documents it, seen through Baton's own client: merges through the
// API as real commits on the git server (merge | squash | rebase), repository settings, branch protection
// with reviews and CODEOWNERS, 409/422, deployments with auto_inactive, pagination, secondary rate limits.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { promises as fs } from "node:fs";
import path from "node:path";
import { BatonError } from "../../src/errors.js";
import type { GitHubApi } from "../../src/github/api.js";
import { GitWorkspace } from "../../src/promote/git-workspace.js";
import { sourceHealthySince } from "../../src/promote/promote.js";
import { cloneConfigRepo, git, seedConfigRepo } from "../support/example-repo.js";
import { GitServer } from "../support/git-server.js";
import { DEFAULT_SETTINGS, GitHubDouble } from "../support/github-double.js";

let server: GitServer;
let github: GitHubDouble;
let seq = 0;
/** One repository for every test here (the machine is shared; every git call counts). */
const NAME = "acme/standin";
let dir: string;
let api: GitHubApi;

before(async () => {
  server = await GitServer.create();
  github = await GitHubDouble.start(server);
  await seedConfigRepo(server, NAME);
  dir = await cloneConfigRepo(server, NAME, "Dev");
  api = github.connect(server.url(NAME));
});
after(async () => {
  assert.deepEqual(github.violations, []);
  await github.stop();
  await server.destroy();
});

const refused = (pattern: RegExp) => (e: unknown) => e instanceof BatonError && e.code === "GITHUB_MERGE_REFUSED" && pattern.test(e.message);

/** A PR of `commits` commits from current main, each adding to a file of its own under staging. */
async function repoWithPull(commits = 2): Promise<{ dir: string; api: GitHubApi; number: number; branch: string }> {
  const branch = `change-${++seq}`;
  await git(dir, "fetch", "--quiet", "origin");
  await git(dir, "checkout", "--quiet", "-b", branch, "origin/main");
  for (let i = 1; i <= commits; i++) {
    await fs.appendFile(path.join(dir, `environments/staging/NOTES-${seq}.md`), `step ${i}\n`);
    await git(dir, "add", ".");
    await git(dir, "commit", "--quiet", "-m", `Step ${i}\n\nDetail of step ${i}`);
  }
  await git(dir, "push", "--quiet", "origin", branch);
  await git(dir, "checkout", "--quiet", "--detach", "origin/main");
  const pull = await api.openPull({ head: branch, base: "main", title: "Tune staging", body: "Why: load test" });
  return { dir, api, number: pull.number, branch };
}

async function mainLog(dir: string): Promise<Array<{ sha: string; parents: string[]; author: string; committer: string; message: string }>> {
  await git(dir, "fetch", "--quiet", "origin");
  const out = await git(dir, "log", "--format=%H%x1f%P%x1f%an%x1f%cn%x1f%B%x1e", "origin/main");
  return out.split("\x1e").map((r) => r.trim()).filter(Boolean).map((r) => {
    const [sha = "", parents = "", author = "", committer = "", message = ""] = r.split("\x1f");
    return { sha, parents: parents.split(" ").filter(Boolean), author, committer, message: message.trim() };
  });
}

test("merge, squash and rebase produce the commits GitHub produces", async () => {
  github.settings = { ...DEFAULT_SETTINGS };
  const merge = await repoWithPull();
  const merged = await merge.api.mergePull(merge.number, { method: "merge" });
  const [mergeCommit] = await mainLog(merge.dir);
  assert.equal(mergeCommit?.sha, merged.sha);
  assert.equal(mergeCommit?.parents.length, 2);
  assert.equal(mergeCommit?.message, `Merge pull request #${merge.number} from acme/${merge.branch}\n\nTune staging`);
  assert.equal(mergeCommit?.committer, "GitHub");
  assert.deepEqual(await merge.api.getPull(merge.number).then((p) => [p.state, p.merged]), ["closed", true]);
  await assert.rejects(merge.api.mergePull(merge.number, { method: "merge" }), refused(/not mergeable/));

  // Squash, default settings: "<PR title> (#n)" and the list of commit messages.
  const squash = await repoWithPull();
  await squash.api.mergePull(squash.number, { method: "squash" });
  const [squashed] = await mainLog(squash.dir);
  assert.equal(squashed?.parents.length, 1);
  assert.equal(squashed?.message, `Tune staging (#${squash.number})\n\n* Step 1\n\nDetail of step 1\n\n* Step 2\n\nDetail of step 2`);
  assert.equal(squashed?.author, "baton-bot");
  // A single-commit PR keeps that commit's message (COMMIT_OR_PR_TITLE + COMMIT_MESSAGES) ...
  const single = await repoWithPull(1);
  await single.api.mergePull(single.number, { method: "squash" });
  assert.equal((await mainLog(single.dir))[0]?.message, `Step 1 (#${single.number})\n\nDetail of step 1`);
  // ... and with "PR title / PR body" the commit messages (and any trailers in them) are gone.
  github.settings = { ...DEFAULT_SETTINGS, squash_merge_commit_title: "PR_TITLE", squash_merge_commit_message: "PR_BODY" };
  const body = await repoWithPull(1);
  await body.api.mergePull(body.number, { method: "squash" });
  assert.equal((await mainLog(body.dir))[0]?.message, `Tune staging (#${body.number})\n\nWhy: load test`);

  // Rebase: the PR's commits with new SHAs on top of main, authors kept, no merge commit.
  github.settings = { ...DEFAULT_SETTINGS };
  const rebase = await repoWithPull();
  const originals = (await git(rebase.dir, "rev-list", `origin/${rebase.branch}`, "--max-count=2")).split("\n");
  await rebase.api.mergePull(rebase.number, { method: "rebase" });
  const [second, first] = await mainLog(rebase.dir);
  assert.deepEqual([second?.message, first?.message], ["Step 2\n\nDetail of step 2", "Step 1\n\nDetail of step 1"]);
  assert.deepEqual([second?.parents.length, first?.parents.length, second?.parents[0]], [1, 1, first?.sha]);
  assert.ok(!originals.includes(second?.sha ?? "") && !originals.includes(first?.sha ?? ""), "rebased commits get new SHAs");
  assert.deepEqual([second?.author, second?.committer], ["Dev", "GitHub"]);
  assert.equal(await git(rebase.dir, "diff", `origin/${rebase.branch}`, "origin/main"), "", "same content as the PR head");
  assert.deepEqual(await rebase.api.pullsForCommit(first?.sha ?? ""), [rebase.number], "GitHub associates rebased commits with their PR");
});

test("repository settings, stale sha, missing head branch, own approval", async () => {
  github.settings = { ...DEFAULT_SETTINGS, allow_merge_commit: false, allow_rebase_merge: false };
  const pr = await repoWithPull();
  assert.deepEqual(await pr.api.mergeMethods(), ["squash"]);
  await assert.rejects(pr.api.mergePull(pr.number, { method: "merge" }), refused(/Merge commits are not allowed on this repository\./));
  await assert.rejects(pr.api.mergePull(pr.number, { method: "squash", sha: "0".repeat(40) }), refused(/Head branch was modified/));
  const head = (await pr.api.getPull(pr.number)).headSha;
  assert.match(head ?? "", /^[0-9a-f]{40}$/);
  assert.ok((await pr.api.mergePull(pr.number, { method: "squash", ...(head ? { sha: head } : {}) })).sha);
  github.settings = { ...DEFAULT_SETTINGS };

  await assert.rejects(pr.api.openPull({ head: "no-such-branch", base: "main", title: "x", body: "" }), (e: unknown) => e instanceof BatonError && e.code === "GITHUB_FAILED" && /HTTP 422/.test(e.message));
  const again = await repoWithPull(1);
  await assert.rejects(github.review(again.number, "baton-bot"), /HTTP 422/);
});

test("branch protection: approvals, code owners from CODEOWNERS on the base, required status checks", async () => {
  github.settings = { ...DEFAULT_SETTINGS };
  github.protection.set("main", { requiredContexts: ["baton/policy"], requiredApprovingReviewCount: 1, requireCodeOwnerReviews: true });
  github.teams.set("acme/qa", ["alice"]);
  try {
    const pr = await repoWithPull(1);
    await fs.mkdir(path.join(pr.dir, ".github"), { recursive: true });
    await fs.writeFile(path.join(pr.dir, ".github/CODEOWNERS"), "# owners\n* @acme/platform\n/environments/staging/ @acme/qa\n");
    await git(pr.dir, "add", ".github");
    await git(pr.dir, "commit", "--quiet", "-m", "Code owners");
    await git(pr.dir, "push", "--quiet", "origin", "HEAD:main");
    const merge = () => pr.api.mergePull(pr.number, { method: "merge" });
    await assert.rejects(merge(), refused(/At least 1 approving review is required by reviewers with write access\./));
    await github.review(pr.number, "bob");
    await assert.rejects(merge(), refused(/Waiting on code owner review from @acme\/qa\./));
    await github.review(pr.number, "alice", "COMMENT");
    await assert.rejects(merge(), refused(/Waiting on code owner review from @acme\/qa\./));
    await github.review(pr.number, "alice");
    await assert.rejects(merge(), refused(/Required status check "baton\/policy" is expected\./));
    const head = (await pr.api.getPull(pr.number)).headSha ?? "";
    await pr.api.setCommitStatus(head, { state: "pending", context: "baton/policy", description: "soaking" });
    await assert.rejects(merge(), refused(/"baton\/policy" is expected/));
    assert.deepEqual(await pr.api.commitStatus(head, "baton/policy"), { state: "pending", description: "soaking" });
    await pr.api.setCommitStatus(head, { state: "failure", context: "baton/policy", description: "rejected digest" });
    await assert.rejects(merge(), refused(/"baton\/policy" is failing/));
    await pr.api.setCommitStatus(head, { state: "success", context: "baton/policy", description: "ok" });
    assert.ok((await merge()).sha);
  } finally {
    github.protection.clear();
    github.teams.clear();
  }
});

test("a repository ruleset requiring baton/policy refuses the merge as one line until the check passes; evaluate-mode rulesets do not block", async () => {
  github.settings = { ...DEFAULT_SETTINGS };
  github.rulesets.push(
    { name: "insights only", enforcement: "evaluate", include: ["~ALL"], requiredStatusChecks: ["never-reported"] },
    { name: "promotions", enforcement: "active", include: ["~DEFAULT_BRANCH"], requiredStatusChecks: ["baton/policy"] },
  );
  try {
    const pr = await repoWithPull(1);
    const merge = () => pr.api.mergePull(pr.number, { method: "squash" });
    await assert.rejects(merge(), refused(/^GitHub refused to merge #\d+ \(squash\): Repository rule violations found: Required status check "baton\/policy" is expected\.$/));
    const head = (await pr.api.getPull(pr.number)).headSha ?? "";
    await pr.api.setCommitStatus(head, { state: "failure", context: "baton/policy", description: "rejected digest" });
    await assert.rejects(merge(), refused(/Repository rule violations found: Required status check "baton\/policy" is failing\./));
    assert.equal(github.pull(pr.number).merged, false);
    await pr.api.setCommitStatus(head, { state: "success", context: "baton/policy", description: "ok" });
    assert.ok((await merge()).sha);
    assert.equal(github.pull(pr.number).merged, true);
  } finally {
    github.rulesets.length = 0;
  }
});

test("deployments: ref resolved to a sha, filters, auto_inactive as documented, pagination", async () => {
  const name = NAME;
  await git(dir, "fetch", "--quiet", "origin");
  const main = await git(dir, "rev-parse", "origin/main");
  const first = await api.createDeployment({ ref: "main", environment: "staging", description: "one" });
  assert.equal(first.sha, main);
  await api.createDeploymentStatus(first.id, { state: "success", description: "ok" });
  const second = await api.createDeployment({ ref: main, environment: "staging", description: "two" });
  await api.createDeploymentStatus(second.id, { state: "in_progress", description: "applying" });
  assert.deepEqual((await api.listDeploymentStatuses(first.id)).map((s) => s.state), ["success"], "only a success inactivates older ones");
  await api.createDeploymentStatus(second.id, { state: "success", description: "ok" });
  assert.deepEqual((await api.listDeploymentStatuses(first.id)).map((s) => s.state), ["inactive", "success"]);
  // production is a production environment: GitHub does not inactivate its deployments.
  const p1 = await api.createDeployment({ ref: main, environment: "production", description: "p1" });
  await api.createDeploymentStatus(p1.id, { state: "success", description: "ok" });
  const p2 = await api.createDeployment({ ref: main, environment: "production", description: "p2" });
  await api.createDeploymentStatus(p2.id, { state: "success", description: "ok" });
  assert.deepEqual((await api.listDeploymentStatuses(p1.id)).map((s) => s.state), ["success"]);
  assert.deepEqual((await api.listDeployments("staging")).map((d) => d.id), [second.id, first.id]);
  await assert.rejects(api.createDeployment({ ref: "no-such-ref", environment: "staging", description: "x" }), /HTTP 422/);

  // More than one page: Baton follows Link headers (per_page=100).
  for (let i = 0; i < 130; i++) github.deployments.push({ repository: name, id: 10_000 + i, sha: main, ref: main, environment: "qa", created_at: new Date().toISOString(), transient: false, production: false, statuses: [] });
  const requestsBefore = github.requests.length;
  assert.equal((await api.listDeployments("qa", { limit: 1000 })).length, 130);
  assert.equal(github.requests.slice(requestsBefore).filter((r) => r.includes("/deployments?")).length, 2);
  assert.equal((await api.listDeployments("qa", { limit: 30 })).length, 30);
  for (let i = 0; i < 105; i++) github.pulls.push({ repository: name, number: 20_000 + i, title: `p${i}`, body: "", head: `h${i}`, base: "main", state: "open", merged: false, landed: [], author: "x", labels: i % 2 ? ["promotion"] : [], comments: [] });
  assert.equal((await api.listOpenPulls("promotion")).length, 52);
  for (const p of github.pulls.filter((x) => x.repository === name)) p.state = "closed";
});

test("secondary rate limits (403 and 429 with retry-after) are waited out, or reported when too long", async () => {
  github.secondaryRateLimit = { remaining: 1, status: 403, retryAfterSeconds: 1 };
  github.rateLimited = 0;
  assert.deepEqual(await api.listDeployments("nowhere"), []);
  github.secondaryRateLimit = { remaining: 1, status: 429, retryAfterSeconds: 1 };
  assert.deepEqual(await api.listDeployments("nowhere"), []);
  assert.equal(github.rateLimited, 2);
  // A wait longer than Baton is prepared to sit through is reported as one line instead.
  github.secondaryRateLimit = { remaining: 1, status: 403, retryAfterSeconds: 3600 };
  await assert.rejects(api.listDeployments("nowhere"), (e: unknown) => e instanceof BatonError && e.code === "GITHUB_FAILED" && /HTTP 403/.test(e.message) && /rate-limited/.test(e.hint ?? ""));
  github.secondaryRateLimit = undefined;
});

test("soak spans successive healthy deployments although GitHub marked the older ones inactive", async () => {
  await git(dir, "fetch", "--quiet", "origin");
  await git(dir, "checkout", "--quiet", "--detach", "origin/main");
  const head = await git(dir, "rev-parse", "HEAD");
  const deploy = async () => {
    const d = await api.createDeployment({ ref: head, environment: "soaktest", description: "apply" });
    await api.createDeploymentStatus(d.id, { state: "in_progress", description: "applying" });
    await api.createDeploymentStatus(d.id, { state: "success", description: "healthy" });
    return d;
  };
  const first = await deploy();
  await deploy();
  const firstSuccess = github.deployments.find((d) => d.id === first.id)?.statuses.find((s) => s.state === "success")?.created_at;
  assert.equal(github.deployments.find((d) => d.id === first.id)?.statuses.at(-1)?.state, "inactive");
  const since = await sourceHealthySince(api, "soaktest", await GitWorkspace.open(dir), "environments/testing");
  assert.equal(since?.toISOString(), firstSuccess);
});
