// Commit messages round-trip: what promote/pin/rollback write, history can parse back.
import { test } from "node:test";
import assert from "node:assert/strict";
import { formatCommitMessage, parseBatonCommit, parseTrailers, TRAILER } from "../../src/promote/trailers.js";

const D1 = `sha256:${"a".repeat(64)}`;
const D2 = `sha256:${"b".repeat(64)}`;

test("a promotion message round-trips through the trailer parser", () => {
  const msg = formatCommitMessage("Promote web@sha256:aaaaaaa to staging", [
    [TRAILER.promotion, "testing -> staging"],
    [TRAILER.image, `ghcr.io/acme/web@${D1}`],
    [TRAILER.image, `ghcr.io/acme/api@${D2}`],
    [TRAILER.skipStage, "hotfix\nfor incident 42"],
  ]);
  assert.match(msg, /^Promote web@sha256:aaaaaaa to staging\n\nBaton-Promotion: testing -> staging\n/);
  const parsed = parseBatonCommit(msg);
  assert.equal(parsed.kind, "promotion");
  assert.equal(parsed.from, "testing");
  assert.equal(parsed.env, "staging");
  assert.deepEqual(parsed.images, [{ repository: "ghcr.io/acme/web", digest: D1 }, { repository: "ghcr.io/acme/api", digest: D2 }]);
  assert.equal(parsed.skipStageReason, "hotfix for incident 42");
});

test("rollback trailers and ordinary messages", () => {
  const msg = formatCommitMessage("Roll back production", [[TRAILER.rollback, "production"], [TRAILER.reverts, "abc123"]], "Reverts 1 commit.");
  assert.deepEqual(parseBatonCommit(msg), { kind: "rollback", env: "production", images: [], reverts: ["abc123"] });
  assert.deepEqual(parseTrailers("fix typo\n\nSigned-off-by: x"), []);
  assert.equal(parseBatonCommit("Update web.yaml").kind, undefined);
});

test("release commits: confirm, abort and retire name their kind, the environment and what they did", () => {
  const confirm = formatCommitMessage("Confirm web@sha256:bbbbbbb in production: step 2/4 (weight 10%)", [[TRAILER.release, "production"], [TRAILER.confirm, "step 2"]]);
  assert.deepEqual(parseBatonCommit(confirm), { kind: "confirm", release: "step 2", env: "production", images: [], reverts: [] });
  const abort = formatCommitMessage("Abort web@sha256:bbbbbbb in production: aborted: all traffic back on stable", [[TRAILER.release, "production"], [TRAILER.abort, "auto"], [TRAILER.image, `ghcr.io/acme/web@${D1}`]], "health failed");
  assert.deepEqual(parseBatonCommit(abort), { kind: "abort", release: "auto", env: "production", images: [{ repository: "ghcr.io/acme/web", digest: D1 }], reverts: [] });
  assert.deepEqual(parseBatonCommit(formatCommitMessage("Retire the old slot of web@sha256:bbbbbbb in production: retire slot blue", [[TRAILER.release, "production"], [TRAILER.retire, "blue"]])).kind, "retire");
});
