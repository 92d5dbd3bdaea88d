// Which GitHub repository a clone belongs to, and when Baton may talk to GitHub at all.
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseRepoId, repoIdFromRemote } from "../../src/github/remote.js";
import { connectGitHub, tryConnectGitHub } from "../../src/github/connect.js";
import { checkDirectPush, checkOrder } from "../../src/promote/policy.js";
import { parsePipeline } from "../../src/config/pipeline.js";
import { BatonError } from "../../src/errors.js";

const isCode = (code: string) => (e: unknown) => e instanceof BatonError && e.code === code;

test("owner/name from every remote URL spelling", () => {
  const want = { owner: "acme", repo: "deploy-config" };
  for (const url of ["https://github.com/acme/deploy-config.git", "https://github.com/acme/deploy-config", "git@github.com:acme/deploy-config.git", "ssh://git@ghe.example.com/acme/deploy-config.git", "https://x:tok@ghe.example.com/scm/acme/deploy-config.git/"]) {
    assert.deepEqual(repoIdFromRemote(url), want, url);
  }
  assert.deepEqual(parseRepoId("acme/deploy-config"), want);
  assert.throws(() => parseRepoId("acme"), isCode("USAGE"));
  assert.throws(() => repoIdFromRemote("/config.git"), isCode("USAGE"));
});

test("no token: optional GitHub is skipped, required GitHub is a clear error", () => {
  assert.equal(tryConnectGitHub({ remoteUrl: "https://github.com/a/b.git", env: {} }), undefined);
  assert.throws(() => connectGitHub({ remoteUrl: "https://github.com/a/b.git", env: {} }), isCode("GITHUB_TOKEN_MISSING"));
  assert.equal(tryConnectGitHub({ repo: "a/b", env: { GITHUB_TOKEN: "t" } })?.repository, "a/b");
});

test("order and direct-push policy", () => {
  const pipeline = parsePipeline({
    apiVersion: "baton.dev/v1alpha1", kind: "Pipeline",
    environments: [
      { name: "testing", path: "environments/testing" },
      { name: "staging", path: "environments/staging", promoteFrom: "testing", allowDirectPush: true },
      { name: "production", path: "environments/production", promoteFrom: "staging" },
    ],
  });
  assert.deepEqual(checkOrder(pipeline, "testing", "staging"), { skipped: false });
  assert.throws(() => checkOrder(pipeline, "testing", "production"), isCode("PROMOTE_ORDER"));
  assert.throws(() => checkOrder(pipeline, "staging", "testing", { skipStage: false }), isCode("PROMOTE_ORDER"));
  assert.throws(() => checkOrder(pipeline, "testing", "production", { skipStage: true, reason: "  " }), isCode("USAGE"));
  assert.deepEqual(checkOrder(pipeline, "testing", "production", { skipStage: true, reason: "incident 42" }), { skipped: true });
  assert.throws(() => checkOrder(pipeline, "testing", "nope"), isCode("PIPELINE_UNKNOWN_ENV"));
  assert.doesNotThrow(() => checkDirectPush(pipeline, "testing", "--commit"));
  assert.doesNotThrow(() => checkDirectPush(pipeline, "staging", "--push"));
  assert.throws(() => checkDirectPush(pipeline, "production", "--push"), isCode("PROMOTE_DIRECT_PUSH"));
});
