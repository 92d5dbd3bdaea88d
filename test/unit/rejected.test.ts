// The rejected list: stored in git as YAML, consulted by promote, edited by rollback/unreject.
import { test } from "node:test";
import assert from "node:assert/strict";
import { addRejected, assertNotRejected, formatRejected, parseRejected, removeRejected, sameRejection } from "../../src/promote/rejected.js";
import { codeownersBlock } from "../../src/promote/codeowners.js";
import { parsePipeline } from "../../src/config/pipeline.js";
import { BatonError } from "../../src/errors.js";

const D = `sha256:${"c".repeat(64)}`;
const entry = { repository: "ghcr.io/acme/web", digest: D, reason: "rolled back by abc1234", at: "2026-01-01T00:00:00Z" };

test("add, format, parse and remove round-trip; duplicates are not added twice", () => {
  let list = addRejected({}, "production", [entry]);
  list = addRejected(list, "production", [entry]);
  const text = formatRejected(list);
  assert.deepEqual(parseRejected(text), { production: [entry] });
  assert.throws(() => assertNotRejected(parseRejected(text), "production", [{ repository: entry.repository, digest: D }]), (e: unknown) => e instanceof BatonError && e.code === "PROMOTE_REJECTED_DIGEST" && /baton unreject production/.test(e.hint ?? ""));
  assert.doesNotThrow(() => assertNotRejected(list, "staging", [{ repository: entry.repository, digest: D }]));
  const removed = removeRejected(list, "production", entry.repository, D);
  assert.deepEqual(parseRejected(formatRejected(removed)), {});
  assert.throws(() => removeRejected(removed, "production", entry.repository, D), (e: unknown) => e instanceof BatonError && e.code === "PIN_NOT_FOUND");
});

test("a rejection matches the image however it is spelled: registry defaults, tags, digest case", () => {
  const hex = "c".repeat(64);
  const list = parseRejected(`production:\n  - repository: nginx\n    digest: SHA256:${hex.toUpperCase()}\n    reason: rolled back\n`);
  assert.equal(list.production?.[0]?.digest, `sha256:${hex}`, "stored lowercase");
  const rejected = (repository: string, digest = `sha256:${hex}`) => {
    try {
      assertNotRejected(list, "production", [{ repository, digest }]);
      return false;
    } catch (e) {
      assert.ok(e instanceof BatonError && e.code === "PROMOTE_REJECTED_DIGEST", String(e));
      return true;
    }
  };
  for (const spelling of ["nginx", "docker.io/library/nginx", "index.docker.io/library/nginx", "library/nginx", "Docker.io/library/nginx", "nginx:1.25", "docker.io/library/nginx:1.25"]) {
    assert.equal(rejected(spelling), true, spelling);
  }
  assert.equal(rejected("nginx", `sha256:${"d".repeat(64)}`), false, "another digest");
  assert.equal(rejected("ghcr.io/acme/nginx"), false, "another image");
  assert.equal(rejected("localhost:5000/nginx"), false, "a registry port is not a tag");
  assert.equal(sameRejection({ repository: "localhost:5000/web:v1", digest: `sha256:${hex}` }, { repository: "localhost:5000/web", digest: `sha256:${hex.toUpperCase()}` }), true);
  // Rollback does not add a second spelling of a rejection; unreject removes it under any spelling.
  const entry2 = { repository: "docker.io/library/nginx", digest: `sha256:${hex}`, reason: "again", at: "" };
  assert.equal(addRejected(list, "production", [entry2]).production?.length, 1);
  assert.deepEqual(removeRejected(list, "production", "docker.io/library/nginx", `sha256:${hex}`).production, []);
});

test("a malformed rejected file is a clear error", () => {
  assert.deepEqual(parseRejected(undefined), {});
  assert.throws(() => parseRejected("production:\n  - repository: x\n    digest: nope\n"), (e: unknown) => e instanceof BatonError && e.file === ".baton/rejected.yaml");
  assert.throws(() => parseRejected("a: [\n"), (e: unknown) => e instanceof BatonError && e.code === "YAML_SYNTAX");
});

test("CODEOWNERS has one rule per environment folder with approvers", () => {
  const pipeline = parsePipeline({
    apiVersion: "baton.dev/v1alpha1", kind: "Pipeline",
    environments: [
      { name: "testing", path: "environments/testing" },
      { name: "staging", path: "environments/staging/", promoteFrom: "testing", approvers: ["@acme/qa"] },
      { name: "production", path: "environments/production", promoteFrom: "staging", approvers: ["@acme/sre", "boss@acme.dev"] },
    ],
  });
  const block = codeownersBlock(pipeline).split("\n");
  assert.deepEqual(block.slice(1, 3), ["/environments/staging/ @acme/qa", "/environments/production/ @acme/sre boss@acme.dev"]);
  assert.match(block[0] ?? "", /^# BEGIN baton/);
  assert.equal(block[3], "# END baton");
});
