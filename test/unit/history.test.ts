// History rows and rollback candidates are derived from commit messages and files, purely.
import { test } from "node:test";
import assert from "node:assert/strict";
import { historyEntry, pinsInFiles } from "../../src/promote/history.js";
import { rollbackCandidates } from "../../src/promote/rollback.js";
import type { LogEntry } from "../../src/promote/git-workspace.js";
import { formatCommitMessage, TRAILER } from "../../src/promote/trailers.js";

const D1 = `sha256:${"1".repeat(64)}`;
const D2 = `sha256:${"2".repeat(64)}`;

function entry(sha: string, message: string, parents = ["p"]): LogEntry {
  const [subject = "", ...rest] = message.split("\n");
  return { sha, parents, date: "2026-01-01T00:00:00Z", author: "Ann", email: "ann@example.com", subject, body: rest.join("\n").trim() };
}

const promo = (sha: string, env: string, digest: string) => entry(sha, formatCommitMessage(`Promote web to ${env}`, [[TRAILER.promotion, `testing -> ${env}`], [TRAILER.image, `ghcr.io/acme/web@${digest}`]]));

test("a merge row takes its PR number from the subject and its digests from the PR commit's trailers", () => {
  const merge = entry("m1", "Merge pull request #12 from acme/baton/promote/staging/1111111", ["a", "b"]);
  const row = historyEntry(merge, formatCommitMessage("Promote", [[TRAILER.promotion, "testing -> staging"], [TRAILER.image, `ghcr.io/acme/web@${D1}`]]), () => assert.fail("files are not read when trailers name the digests"));
  assert.deepEqual(row, { time: "2026-01-01T00:00:00Z", commit: "m1", author: "Ann", subject: merge.subject, kind: "promotion", from: "testing", pr: 12, digests: [{ repository: "ghcr.io/acme/web", digest: D1 }], digestSource: "trailers" });
});

test("a commit without trailers falls back to the pins in its files", () => {
  const files = [{ path: "environments/staging/web.yaml", text: `spec:\n  template:\n    spec:\n      containers:\n        - name: web\n          image: ghcr.io/acme/web:1.0@${D2}\n` }];
  const row = historyEntry(entry("c1", "Tune replicas (#7)"), "Tune replicas (#7)", () => pinsInFiles(files));
  assert.equal(row.kind, "commit");
  assert.equal(row.pr, 7);
  assert.deepEqual(row.digests, [{ repository: "ghcr.io/acme/web", digest: D2 }]);
  assert.equal(row.digestSource, "files");
});

test("rollback candidates: only Baton commits into that env, skipping merges and already-reverted ones", () => {
  const log = [
    entry("r1", formatCommitMessage("Roll back", [[TRAILER.rollback, "staging"], [TRAILER.reverts, "s3"]])),
    promo("s3", "staging", D2),
    entry("x", "Hand edit"),
    promo("p1", "production", D1),
    entry("m", "Merge pull request #3", ["a", "b"]),
    promo("s2", "staging", D1),
  ];
  assert.deepEqual(rollbackCandidates(log, "staging").map((e) => e.sha), ["s2"]);
  assert.deepEqual(rollbackCandidates(log, "production").map((e) => e.sha), ["p1"]);
  assert.deepEqual(rollbackCandidates(log, "testing"), []);
});
