// For every kustomize example, Baton's object list equals the real `kustomize build` output, parsed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { parseAllDocuments } from "yaml";
import { findEnvironment, loadPipeline } from "../../src/config/pipeline.js";
import { renderEnvironment } from "../../src/config/render.js";
import { planPromotion } from "../../src/config/repo.js";

const repo = path.resolve(import.meta.dirname, "../fixtures/kustomize");

for (const envName of ["staging", "production"]) {
  test(`kustomize overlay ${envName} renders exactly what kustomize build prints`, async () => {
    const pipeline = await loadPipeline(repo);
    const rendered = await renderEnvironment(repo, findEnvironment(pipeline, envName));
    assert.equal(rendered.mode, "kustomize");
    const { stdout } = await promisify(execFile)("kustomize", ["build", path.join(repo, `environments/${envName}`)]);
    const expected = parseAllDocuments(stdout).map((d) => d.toJS() as unknown);
    assert.deepEqual(rendered.objects.map((o) => o.object), expected);
    assert.ok(rendered.objects.some((o) => o.id.kind === "ConfigMap" && o.id.name.startsWith("web-config-")), "generated ConfigMap with hash suffix");
  });
}

test("promotion between kustomize overlays edits the images: digest only", async () => {
  const pipeline = await loadPipeline(repo);
  const plan = await planPromotion(repo, pipeline, "staging", "production");
  assert.equal(plan.edits.length, 1);
  const edit = plan.edits[0];
  assert.equal(edit?.file, "environments/production/kustomization.yaml");
  const changed = (edit?.before ?? "").split("\n").filter((l, i) => l !== (edit?.after ?? "").split("\n")[i]);
  assert.equal(changed.length, 1);
  assert.match(changed[0] ?? "", /^\s+digest: sha256:/);
});
