// Which PR `baton merge <env>` means, and what it refuses before asking GitHub: pure decisions over the
// narrow GitHub interface, so a small in-memory fake stands in (the stand-in covers the merge itself).
import { test } from "node:test";
import assert from "node:assert/strict";
import { BatonError } from "../../src/errors.js";
import type { GitHubApi, PullRequest } from "../../src/github/api.js";
import { findMergeTarget, mergeBatonPull } from "../../src/promote/merge.js";

function pull(number: number, labels: string[], extra: Partial<PullRequest> = {}): PullRequest {
  return { number, url: `https://github.example/acme/config/pull/${number}`, title: `PR ${number}`, body: "", head: `baton/x/${number}`, base: "main", labels, state: "open", headSha: String(number).repeat(40).slice(0, 40), ...extra };
}

/** Only what findMergeTarget/mergeBatonPull may call before merging; anything else fails the test. */
function fakeGitHub(pulls: PullRequest[], calls: string[] = []): GitHubApi {
  const unexpected = (name: string) => () => Promise.reject(new Error(`unexpected call: ${name}`));
  return {
    repository: "acme/config",
    listOpenPulls: (label?: string) => Promise.resolve(pulls.filter((p) => p.state === "open" && (!label || p.labels.includes(label)))),
    getPull: (n: number) => {
      calls.push(`getPull ${n}`);
      const p = pulls.find((x) => x.number === n);
      return p ? Promise.resolve(p) : Promise.reject(new Error(`no #${n}`));
    },
    findOpenPull: unexpected("findOpenPull"), openPull: unexpected("openPull"), updatePull: unexpected("updatePull"), closePull: unexpected("closePull"),
    comment: unexpected("comment"), addLabels: unexpected("addLabels"), setCommitStatus: unexpected("setCommitStatus"),
    mergeMethods: unexpected("mergeMethods"), mergePull: unexpected("mergePull"), pullsForCommit: unexpected("pullsForCommit"),
    commitStatus: unexpected("commitStatus"), createDeployment: unexpected("createDeployment"), createDeploymentStatus: unexpected("createDeploymentStatus"),
    listDeployments: unexpected("listDeployments"), listDeploymentStatuses: unexpected("listDeploymentStatuses"),
  };
}

const code = (expected: string, message: RegExp, hint?: RegExp) => (e: unknown): boolean => {
  assert.ok(e instanceof BatonError, String(e));
  assert.equal(e.code, expected);
  assert.match(e.message, message);
  if (hint) assert.match(e.hint ?? "", hint);
  return true;
};

test("merge <env> with no open Baton PR into it is MERGE_NOTHING, and says how to open one", async () => {
  // An unrelated PR into staging and a Baton promotion into production do not count.
  const gh = fakeGitHub([pull(1, ["env:staging"]), pull(2, ["promotion", "env:production"]), pull(3, ["promotion", "env:staging"], { state: "closed", merged: true })]);
  await assert.rejects(findMergeTarget(gh, "staging"), code("MERGE_NOTHING", /^no open promotion or rollback PR into staging$/, /baton promote <from> staging or baton rollback staging/));
});

test("merge <env> with a promotion and a rollback open is MERGE_AMBIGUOUS, naming both and how to pick one", async () => {
  const gh = fakeGitHub([pull(4, ["promotion", "env:staging"], { title: "Promote web to staging" }), pull(5, ["rollback", "env:staging"], { title: "Roll back staging" })]);
  await assert.rejects(findMergeTarget(gh, "staging"), code("MERGE_AMBIGUOUS", /^several open Baton PRs into staging: #4 Promote web to staging, #5 Roll back staging$/, /^name one: baton merge 4$/));
});

test("merge <env> with exactly one Baton PR picks it; a number is taken as is", async () => {
  const calls: string[] = [];
  const gh = fakeGitHub([pull(6, ["env:staging"]), pull(7, ["rollback", "env:staging"])], calls);
  assert.equal((await findMergeTarget(gh, "staging")).number, 7);
  assert.equal((await findMergeTarget(gh, "#6")).number, 6);
  assert.deepEqual(calls, ["getPull 7", "getPull 6"]);
});

test("merging a Baton PR that is merged or closed is MERGE_NOTHING before GitHub is asked anything", async () => {
  const gh = fakeGitHub([]);
  await assert.rejects(mergeBatonPull(gh, pull(8, ["promotion", "env:staging"], { state: "closed", merged: true })), code("MERGE_NOTHING", /^#8 is already merged$/));
  await assert.rejects(mergeBatonPull(gh, pull(9, ["rollback", "env:staging"], { state: "closed", merged: false })), code("MERGE_NOTHING", /^#9 is closed$/));
  // An open PR whose head branch is gone has nothing to merge either.
  const { headSha: _gone, ...headless } = pull(10, ["promotion", "env:staging"]);
  await assert.rejects(mergeBatonPull(gh, headless), code("MERGE_NOTHING", /^#10: its head branch baton\/x\/10 is gone$/, /push the branch again/));
  await assert.rejects(mergeBatonPull(gh, pull(11, ["env:staging"])), code("MERGE_NOT_BATON", /^#11 "PR 11" is not a Baton/));
});
