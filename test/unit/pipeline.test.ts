import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { BatonErrors } from "../../src/config/../errors.js";
import { findEnvironment, firstEnvironment, loadPipeline, parsePipeline } from "../../src/config/pipeline.js";

const repoRoot = path.resolve(import.meta.dirname, "../..");

test("the example baton.yaml loads with defaults applied", async () => {
  const p = await loadPipeline(repoRoot);
  assert.deepEqual(p.environments.map((e) => e.name), ["testing", "staging", "production"]);
  const staging = findEnvironment(p, "staging");
  assert.equal(staging.promoteFrom, "testing");
  assert.equal(staging.prune, true);
  assert.equal(staging.requireDigests, true);
  assert.equal(firstEnvironment(p).name, "testing");
});

test("schema errors name the field path and carry a hint, all of them at once", () => {
  try {
    parsePipeline({ apiVersion: "baton.dev/v1alpha1", kind: "Pipeline", environments: [{ name: "a", path: "x", soak: "soon", windows: ["* 99 * * *"] }] });
    assert.fail("should throw");
  } catch (e) {
    assert.ok(e instanceof BatonErrors);
    const byField = Object.fromEntries(e.errors.map((x) => [x.field, x.code]));
    assert.equal(byField["environments[0].soak"], "PIPELINE_BAD_DURATION");
    assert.equal(byField["environments[0].windows[0]"], "PIPELINE_BAD_CRON");
    assert.ok(e.errors.every((x) => x.file === "baton.yaml" && x.hint));
  }
});

test("unknown environment lookups list the valid names", async () => {
  const p = await loadPipeline(repoRoot);
  assert.throws(() => findEnvironment(p, "prod"), (e: Error & { code?: string; hint?: string }) => e.code === "PIPELINE_UNKNOWN_ENV" && /testing, staging, production/.test(e.hint ?? ""));
});

test("schema/baton.schema.json is generated from the same zod schema (npm run schema)", async () => {
  const { pipelineJsonSchema } = await import("../../scripts/gen-schema.js");
  const { readFile } = await import("node:fs/promises");
  assert.equal(await readFile(path.join(repoRoot, "schema/baton.schema.json"), "utf8"), pipelineJsonSchema());
});

test("oci:// charts: allowed only from chartRepositories, with a version; repo charts take no version; HTTP repositories are refused", () => {
  const D = `sha256:${"a".repeat(64)}`;
  const load = (helm: object, chartRepositories?: string[]) => parsePipeline({ apiVersion: "baton.dev/v1alpha1", kind: "Pipeline", ...(chartRepositories ? { chartRepositories } : {}), environments: [{ name: "a", path: "x", helm }] });
  const problems = (helm: object, chartRepositories?: string[]) => {
    try {
      load(helm, chartRepositories);
      return [];
    } catch (e) {
      assert.ok(e instanceof BatonErrors);
      return e.errors.map((x) => `${x.code} ${x.field}`);
    }
  };
  assert.equal(load({ chart: "oci://ghcr.io/acme/charts/web", version: "1.2.0", digest: D }, ["oci://ghcr.io/acme/charts/"]).environments[0]?.helm?.digest, D);
  // A prefix allows what is below it, not a sibling whose name merely starts the same.
  assert.deepEqual(problems({ chart: "oci://ghcr.io/acme/charts-evil/web", version: "1.2.0" }, ["oci://ghcr.io/acme/charts"]), ["CHART_SOURCE_NOT_ALLOWED environments[0].helm.chart"]);
  assert.deepEqual(problems({ chart: "oci://ghcr.io/acme/charts/web", version: "1.2.0" }), ["CHART_SOURCE_NOT_ALLOWED environments[0].helm.chart"]);
  assert.deepEqual(problems({ chart: "oci://ghcr.io/acme/charts/web" }, ["oci://ghcr.io/acme/charts"]), ["PIPELINE_SCHEMA environments[0].helm.version"]);
  assert.deepEqual(problems({ chart: "charts/web", version: "1.2.0" }), ["PIPELINE_SCHEMA environments[0].helm.version"]);
  assert.deepEqual(problems({ chart: "https://charts.example.com/web", version: "1.2.0" }), ["PIPELINE_SCHEMA environments[0].helm.chart"]);
  assert.deepEqual(problems({ chart: "oci://ghcr.io/acme/charts/web", version: "1.2.0", digest: "sha256:abc" }, ["oci://ghcr.io/acme/charts"]), ["PIPELINE_SCHEMA environments[0].helm.digest"]);
});
