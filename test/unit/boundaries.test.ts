// pin and promote never write outside the target environment's folder, and refuse overlapping folders.
import { test } from "node:test";
import assert from "node:assert/strict";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { loadPipeline } from "../../src/config/pipeline.js";
import { parsePinArgument, planPin, planPromotion, validateRepo } from "../../src/config/repo.js";
import { BatonErrors } from "../../src/errors.js";

const web = (digest: string) => `apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  template:\n    spec:\n      containers:\n        - name: web\n          image: ghcr.io/acme/web@sha256:${digest.repeat(64)}\n`;
const PIPELINE = "apiVersion: baton.dev/v1alpha1\nkind: Pipeline\nenvironments:\n  - name: testing\n    path: envs/testing\n  - name: production\n    path: envs/production\n    promoteFrom: testing\n";

async function repo(files: Record<string, string>, links: Record<string, string>): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "baton-bounds-"));
  for (const [file, text] of Object.entries(files)) {
    await fs.mkdir(path.dirname(path.join(dir, file)), { recursive: true });
    await fs.writeFile(path.join(dir, file), text);
  }
  for (const [link, target] of Object.entries(links)) {
    await fs.mkdir(path.dirname(path.join(dir, link)), { recursive: true });
    await fs.symlink(target, path.join(dir, link));
  }
  return dir;
}

const codes = (e: unknown): string[] => (e instanceof BatonErrors ? e.errors.map((x) => x.code) : [(e as { code?: string }).code ?? String(e)]);

test("an environment file symlinked to a shared base is rendered but never edited by pin or promote", async () => {
  const dir = await repo({ "baton.yaml": PIPELINE, "envs/testing/web.yaml": web("a"), "base/web.yaml": web("b") }, { "envs/production/web.yaml": "../../base/web.yaml" });
  const pipeline = await loadPipeline(dir);
  assert.equal((await validateRepo(dir)).ok, true, "a symlink to a base outside environment folders is allowed");
  await assert.rejects(planPin(dir, pipeline, "production", [parsePinArgument(`ghcr.io/acme/web@sha256:${"c".repeat(64)}`)]), (e) => codes(e).includes("PIN_NOT_FOUND"));
  await assert.rejects(planPromotion(dir, pipeline, "testing", "production"), (e) => codes(e).includes("PIN_OUTSIDE_ENV"));
  assert.equal(await fs.readFile(path.join(dir, "base/web.yaml"), "utf8"), web("b"));
});

test("pin and promote refuse a target whose folder reaches into another environment's", async () => {
  const dir = await repo({ "baton.yaml": PIPELINE, "envs/testing/web.yaml": web("a") }, { "envs/production": "../envs/testing" });
  const pipeline = await loadPipeline(dir);
  await assert.rejects(planPromotion(dir, pipeline, "testing", "production"), (e) => codes(e).includes("ENV_OVERLAP"));
  await assert.rejects(planPin(dir, pipeline, "testing", [parsePinArgument(`ghcr.io/acme/web@sha256:${"c".repeat(64)}`)]), (e) => codes(e).includes("ENV_OVERLAP"));
});
