// pin and promote never write outside the target environment's folder, and refuse overlapping folders.
import { test } from "node:test";
import assert from "node:assert/strict";
import { promises as fs } from "node:fs";
import path from "node:path";
import { boundaryProblems } from "../../src/config/boundaries.js";
import { findEnvironment, loadPipeline } from "../../src/config/pipeline.js";
import { renderForApply } from "../../src/release/render.js";
import { parsePinArgument, planPin, planPromotion, validateRepo } from "../../src/config/repo.js";
import { BatonError, BatonErrors } from "../../src/errors.js";
import { writeTree } from "../support/file-tree.js";

const web = (digest: string) => `apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  template:\n    spec:\n      containers:\n        - name: web\n          image: ghcr.io/acme/web@sha256:${digest.repeat(64)}\n`;
const PIPELINE = "apiVersion: baton.dev/v1alpha1\nkind: Pipeline\nenvironments:\n  - name: testing\n    path: envs/testing\n  - name: production\n    path: envs/production\n    promoteFrom: testing\n";

const repo = (files: Record<string, string>, links: Record<string, string>): Promise<string> => writeTree("baton-bounds-", files, links);

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

test("pin and promote refuse a target whose kustomization reads another environment's folder, before any edit", async () => {
  const dir = await repo({
    "baton.yaml": PIPELINE, "envs/testing/web.yaml": web("a"), "envs/testing/kustomization.yaml": "resources:\n  - web.yaml\n",
    "envs/production/kustomization.yaml": "resources:\n  - ../testing\nimages:\n  - name: ghcr.io/acme/web\n    digest: sha256:" + "b".repeat(64) + "\n",
  }, {});
  const pipeline = await loadPipeline(dir);
  const refused = (e: unknown) => {
    const errors = e instanceof BatonErrors ? e.errors : e instanceof BatonError ? [e] : [];
    assert.deepEqual(errors.map((x) => [x.code, x.file, x.field]), [["ENV_CROSS_REFERENCE", "envs/production/kustomization.yaml", "resources[0]"]]);
    assert.match(errors[0]?.message ?? "", /environment "production" reads envs\/testing, which is in environment "testing"'s folder/);
    return true;
  };
  await assert.rejects(planPin(dir, pipeline, "production", [parsePinArgument(`ghcr.io/acme/web@sha256:${"c".repeat(64)}`)]), refused);
  await assert.rejects(planPromotion(dir, pipeline, "testing", "production"), refused);
  // The agent's render (and baton render/diff) refuses it too.
  await assert.rejects(renderForApply(dir, findEnvironment(pipeline, "production")), refused);
});

test("a shared base outside environment folders and a folder that only starts like another environment's are allowed", async () => {
  const dir = await repo({
    "baton.yaml": "apiVersion: baton.dev/v1alpha1\nkind: Pipeline\nenvironments:\n  - name: prod\n    path: envs/prod\n  - name: prod-eu\n    path: envs/prod-eu\n",
    "bases/web/web.yaml": web("a"), "bases/web/kustomization.yaml": "resources:\n  - web.yaml\n",
    "envs/prod/kustomization.yaml": "resources:\n  - ../../bases/web\n",
    "envs/prod-eu/kustomization.yaml": "resources:\n  - ../../bases/web\n  - ../prod-eu/extra\n",
    "envs/prod-eu/extra/kustomization.yaml": "resources: []\n",
  }, {});
  const pipeline = await loadPipeline(dir);
  for (const env of pipeline.environments) assert.deepEqual(await boundaryProblems(dir, pipeline, env), [], env.name);
});

test("the agent's render refuses an environment whose folder overlaps another's", async () => {
  const dir = await repo({ "baton.yaml": PIPELINE, "envs/testing/web.yaml": web("a") }, { "envs/production": "testing" });
  const pipeline = await loadPipeline(dir);
  await assert.rejects(renderForApply(dir, findEnvironment(pipeline, "production")), (e) => codes(e).includes("ENV_OVERLAP"));
});
