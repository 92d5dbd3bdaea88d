// History rows and rollback candidates are derived from content (the pins each commit leaves), purely;
// trailers and GitHub's subjects only name the kind and the PR.
import { test } from "node:test";
import assert from "node:assert/strict";
import { diffPins, pinsInFiles, standingChanges, type PinChange, type PinnedImage } from "../../src/promote/changes.js";
import { historyEntry } from "../../src/promote/history.js";
import type { LogEntry } from "../../src/promote/git-workspace.js";
import { changeKind } from "../../src/promote/naming.js";
import { formatCommitMessage, TRAILER } from "../../src/promote/trailers.js";

const D1 = `sha256:${"1".repeat(64)}`;
const D2 = `sha256:${"2".repeat(64)}`;
const D3 = `sha256:${"3".repeat(64)}`;
const web = (digest: string): PinnedImage[] => [{ repository: "ghcr.io/acme/web", digest }];

function entry(sha: string, message: string, parents = ["p"]): LogEntry {
  const [subject = "", ...rest] = message.split("\n");
  return { sha, parents, date: "2026-01-01T00:00:00Z", author: "Ann", email: "ann@example.com", subject, body: rest.join("\n").trim() };
}

function change(sha: string, before: PinnedImage[], after: PinnedImage[], subject = `commit ${sha}`, parents = ["p"]): PinChange {
  return { entry: entry(sha, subject, parents), before, after, deltas: diffPins(before, after) };
}

test("a merge row takes its PR number from the subject, its kind and source from the trailers, its digests from the files", () => {
  const c = change("m1", web(D1), web(D2), "Merge pull request #12 from acme/baton/promote/staging/2222222", ["a", "b"]);
  const row = historyEntry(c, formatCommitMessage("Promote", [[TRAILER.promotion, "testing -> staging"], [TRAILER.image, `ghcr.io/acme/web@${D3}`]]));
  assert.deepEqual(row, {
    time: "2026-01-01T00:00:00Z", commit: "m1", author: "Ann", subject: c.entry.subject, kind: "promotion", from: "testing", pr: 12,
    digests: web(D2), changes: [{ repository: "ghcr.io/acme/web", from: D1, to: D2 }],
  });
});

test("without trailers the kind comes from GitHub's subjects; a hand edit is a commit; a rebased commit gets its PR from GitHub", () => {
  assert.equal(historyEntry(change("s", web(D1), web(D2), "Promote web@sha256:2222222 to staging (#7)"), "Promote web@sha256:2222222 to staging (#7)\n\nWhy").kind, "promotion");
  assert.equal(changeKind("Roll back web@sha256:2222222 in staging (#9)", undefined), "rollback");
  assert.equal(changeKind("Merge pull request #3 from acme/baton/rollback/staging/abc1234", undefined), "rollback");
  assert.equal(changeKind("Pin web@sha256:2222222 in testing (#4)", undefined), "pin");
  assert.equal(changeKind("Promote the new logo", undefined), undefined);
  const hand = historyEntry(change("h", web(D1), web(D2), "Hotfix digest"), "Hotfix digest");
  assert.deepEqual([hand.kind, hand.pr], ["commit", undefined]);
  assert.equal(historyEntry(change("r", web(D1), web(D2), "Promote web@sha256:2222222 to staging"), "no trailers", 21).pr, 21);
  const files = [{ path: "environments/staging/web.yaml", text: `spec:\n  template:\n    spec:\n      containers:\n        - name: web\n          image: ghcr.io/acme/web:1.0@${D2}\n` }];
  assert.deepEqual(pinsInFiles(files), web(D2));
});

test("rollback candidates: the changes still in effect, newest first; undone changes and the environment's creation are skipped", () => {
  const created = change("c0", [], web(D1));
  const promoteD2 = change("c1", web(D1), web(D2));
  const promoteD3 = change("c2", web(D2), web(D3));
  assert.deepEqual(standingChanges([promoteD3, promoteD2, created]).map((c) => c.entry.sha), ["c2", "c1"]);
  // A rollback (or a hand revert) to D2 cancels c2; the next rollback undoes c1.
  const back = change("r1", web(D3), web(D2), "Roll back web@sha256:3333333 in staging (#5)");
  assert.deepEqual(standingChanges([back, promoteD3, promoteD2, created]).map((c) => c.entry.sha), ["c1"]);
  // Going back two steps at once (--steps 2) cancels both.
  assert.deepEqual(standingChanges([change("r2", web(D3), web(D1)), promoteD3, promoteD2, created]).map((c) => c.entry.sha), []);
  // A hand edit to a new digest after that is a change like any other.
  const hand = change("h1", web(D2), web(D3), "Hand edit");
  assert.deepEqual(standingChanges([hand, back, promoteD3, promoteD2, created]).map((c) => c.entry.sha), ["h1", "c1"]);
  assert.deepEqual(standingChanges([]), []);
  // Images move independently: adding a second image is a change too.
  const api: PinnedImage = { repository: "ghcr.io/acme/api", digest: D1 };
  assert.deepEqual(diffPins(web(D1), [api, ...web(D1)]), [{ repository: "ghcr.io/acme/api", to: D1 }]);
});

test("release commits in history: confirm, abort and retire by trailer, by branch in a merge subject, by PR title in a squash subject", () => {
  const confirm = historyEntry(change("c", web(D2), web(D2), "Confirm web@sha256:2222222 in production: step 2/3 (weight 50%)"),
    formatCommitMessage("Confirm web@sha256:2222222 in production: step 2/3 (weight 50%)", [[TRAILER.release, "production"], [TRAILER.confirm, "step 2"]]));
  assert.deepEqual([confirm.kind, confirm.release, confirm.changes], ["confirm", "step 2", []]);
  const auto = historyEntry(change("a", web(D2), web(D1)), formatCommitMessage("Abort", [[TRAILER.release, "production"], [TRAILER.abort, "auto"]]));
  assert.deepEqual([auto.kind, auto.release], ["abort", "auto"]);
  // A squash whose message lost the trailers, and a merge commit, still name the kind.
  assert.equal(changeKind("Confirm web@sha256:2222222 in production: complete: all traffic on the new version (#31)", undefined), "confirm");
  assert.equal(changeKind("Abort web@sha256:2222222 in production: aborted: all traffic back on stable (#32)", undefined), "abort");
  assert.equal(changeKind("Retire the old slot of web@sha256:2222222 in production: retire slot blue (#33)", undefined), "retire");
  assert.equal(changeKind("Merge pull request #34 from acme/baton/abort/production/2222222", undefined), "abort");
  assert.equal(changeKind("Merge pull request #35 from acme/baton/confirm/production/2222222", undefined), "confirm");
  assert.equal(changeKind("Confirm the new pricing (#36)", undefined), undefined);
});
