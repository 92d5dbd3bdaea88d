import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "../..");

test("the Dockerfile's default kustomize is the version the tests run (test/cluster/versions.env)", async () => {
  const dockerfile = await readFile(path.join(root, "Dockerfile"), "utf8");
  const versions = await readFile(path.join(root, "test/cluster/versions.env"), "utf8");
  const tested = /^KUSTOMIZE_VERSION=(\S+)$/m.exec(versions)?.[1];
  assert.ok(tested, "versions.env pins kustomize");
  assert.equal(/^ARG KUSTOMIZE_VERSION=(\S+)$/m.exec(dockerfile)?.[1], tested);
});

test("the Dockerfile's default helm is the version the tests run (test/cluster/versions.env)", async () => {
  const dockerfile = await readFile(path.join(root, "Dockerfile"), "utf8");
  const versions = await readFile(path.join(root, "test/cluster/versions.env"), "utf8");
  const tested = /^HELM_VERSION=(\S+)$/m.exec(versions)?.[1];
  assert.ok(tested, "versions.env pins helm");
  assert.equal(/^ARG HELM_VERSION=(\S+)$/m.exec(dockerfile)?.[1], tested);
});
