import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { BatonErrors } from "../../src/config/../errors.js";
import { findEnvironment, firstEnvironment, loadPipeline, parsePipeline, stageOf } from "../../src/config/pipeline.js";

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

test("oci:// and https:// charts: allowed only from chartRepositories, with a version; repo charts take no version", () => {
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
  assert.deepEqual(problems({ chart: "https://charts.example.com/web", version: "1.2.0" }), ["CHART_SOURCE_NOT_ALLOWED environments[0].helm.chart"]);
  assert.equal(load({ chart: "https://charts.example.com/stable/web", version: "1.2.0", digest: D }, ["https://charts.example.com/stable"]).environments[0]?.helm?.chart, "https://charts.example.com/stable/web");
  assert.deepEqual(problems({ chart: "https://user:token@charts.example.com/web", version: "1.2.0" }, ["https://charts.example.com"]), ["PIPELINE_SCHEMA environments[0].helm.chart"]);
  assert.deepEqual(problems({ chart: "https://charts.example.com/web?x=1", version: "1.2.0" }, ["https://charts.example.com"]), ["PIPELINE_SCHEMA environments[0].helm.chart"]);
  assert.throws(() => load({ chart: "charts/web" }, ["https://user:token@charts.example.com"]), (e: unknown) => e instanceof BatonErrors && e.errors[0]?.field === "chartRepositories[0]" && !e.errors[0].message.includes("token"));
  assert.deepEqual(problems({ chart: "oci://ghcr.io/acme/charts/web", version: "1.2.0", digest: "sha256:abc" }, ["oci://ghcr.io/acme/charts"]), ["PIPELINE_SCHEMA environments[0].helm.digest"]);
  // Plain http:// only on loopback (a local mirror): elsewhere a chart could be swapped in transit.
  assert.deepEqual(problems({ chart: "http://charts.example.com/web", version: "1.2.0" }, ["https://charts.example.com"]), ["PIPELINE_SCHEMA environments[0].helm.chart"]);
  assert.deepEqual(problems({ chart: "charts/web" }, ["http://charts.example.com"]), ["PIPELINE_SCHEMA chartRepositories[0]"]);
  assert.deepEqual(problems({ chart: "http://127.0.0.1:8080/charts/web", version: "1.2.0" }, ["http://127.0.0.1:8080/charts"]), []);
});

test("helm.images: declared values paths are a whole reference (path) or a repository's tagPath/digestPath; each mistake names its field", () => {
  const load = (images: unknown) => parsePipeline({ apiVersion: "baton.dev/v1alpha1", kind: "Pipeline", environments: [{ name: "a", path: "x", helm: { chart: "charts/web", images } }] });
  const problems = (images: unknown) => {
    try {
      load(images);
      return [];
    } catch (e) {
      assert.ok(e instanceof BatonErrors);
      return e.errors.map((x) => `${x.code} ${x.field} ${x.file}`);
    }
  };
  const ok = [{ path: "app.container.img" }, { repository: "ghcr.io/acme/proxy", tagPath: "sidecars[0].version", digestPath: "sidecars[0].sha" }];
  assert.deepEqual(load(ok).environments[0]?.helm?.images, ok);
  assert.deepEqual(problems([{ path: "app..img" }]), ["PIPELINE_SCHEMA environments[0].helm.images[0].path baton.yaml"]);
  assert.deepEqual(problems([{ path: "app.img", repository: "ghcr.io/acme/web" }]), ["PIPELINE_SCHEMA environments[0].helm.images[0].path baton.yaml"]);
  assert.deepEqual(problems([{ tagPath: "app.tag" }]), ["PIPELINE_SCHEMA environments[0].helm.images[0].repository baton.yaml"]);
  assert.deepEqual(problems([{ repository: "ghcr.io/acme/web:1.0", tagPath: "app.tag" }]), ["PIPELINE_SCHEMA environments[0].helm.images[0].repository baton.yaml"]);
  assert.deepEqual(problems([{ repository: "ghcr.io/acme/web" }]), ["PIPELINE_SCHEMA environments[0].helm.images[0] baton.yaml"]);
  assert.deepEqual(problems([{ key: "app.tag" }]), ["PIPELINE_SCHEMA environments[0].helm.images[0] baton.yaml", "PIPELINE_SCHEMA environments[0].helm.images[0] baton.yaml"]);
});

const staged = (production: Record<string, unknown>) => ({
  apiVersion: "baton.dev/v1alpha1", kind: "Pipeline",
  environments: [{ name: "staging", path: "environments/staging" }, { name: "production", promoteFrom: "staging", soak: "1h", approvers: ["@acme/sre"], ...production }],
});
const problems = (value: unknown): Array<{ code: string; field?: string; message: string }> => {
  try {
    parsePipeline(value);
  } catch (e) {
    assert.ok(e instanceof BatonErrors);
    assert.ok(e.errors.every((x) => x.file === "baton.yaml" && x.hint));
    return e.errors.map((x) => ({ code: x.code, ...(x.field ? { field: x.field } : {}), message: x.message }));
  }
  return assert.fail("should throw");
};

test("a stage with targets expands to one environment per target, carrying the stage's policy, grouped in waves", () => {
  const p = parsePipeline(staged({ waveSoak: "10m", targets: [{ name: "prod-eu", path: "environments/prod-eu" }, { name: "prod-us", path: "environments/prod-us", wave: 2, namespace: "web-us" }] }));
  assert.deepEqual(p.environments.map((e) => e.name), ["staging", "prod-eu", "prod-us"]);
  const us = findEnvironment(p, "prod-us");
  assert.deepEqual({ path: us.path, stage: us.stage, wave: us.wave, promoteFrom: us.promoteFrom, soak: us.soak, approvers: us.approvers, namespace: us.namespace }, {
    path: "environments/prod-us", stage: "production", wave: 2, promoteFrom: "staging", soak: "1h", approvers: ["@acme/sre"], namespace: "web-us",
  });
  const stage = stageOf(p, "prod-us");
  assert.equal(stage?.name, "production");
  assert.deepEqual(stage?.waves.map((w) => w.map((t) => t.name)), [["prod-eu"], ["prod-us"]]);
  assert.equal(stage?.waveSoakMs, 10 * 60_000);
  // Without waveSoak, the earlier waves must be healthy as long as the stage's soak.
  assert.equal(stageOf(parsePipeline(staged({ targets: [{ name: "prod-eu", path: "environments/prod-eu" }] })), "production")?.waveSoakMs, 60 * 60_000);
  // A plain environment is a stage with one target.
  assert.deepEqual(stageOf(p, "staging")?.waves.map((w) => w.map((t) => t.name)), [["staging"]]);
  assert.equal(stageOf(p, "staging")?.staged, false);
});

test("bad targets and waves name the field: duplicate names, waves not from 1 or with gaps, path and targets both or neither", () => {
  assert.deepEqual(problems(staged({ targets: [{ name: "prod-eu", path: "a" }, { name: "staging", path: "b", wave: 2 }] })).map((p) => [p.code, p.field]), [["PIPELINE_DUPLICATE_ENV", "environments[1].targets[1].name"]]);
  const late = problems(staged({ targets: [{ name: "prod-eu", path: "a", wave: 2 }, { name: "prod-us", path: "b", wave: 3 }] }));
  assert.deepEqual(late.map((p) => [p.code, p.field]), [["PIPELINE_BAD_WAVE", "environments[1].targets[0].wave"]]);
  assert.match(late[0]?.message ?? "", /waves of production start at 2, not 1/);
  const gap = problems(staged({ targets: [{ name: "prod-eu", path: "a" }, { name: "prod-us", path: "b", wave: 3 }] }));
  assert.deepEqual(gap.map((p) => [p.code, p.field]), [["PIPELINE_BAD_WAVE", "environments[1].targets[1].wave"]]);
  assert.match(gap[0]?.message ?? "", /skip wave 2/);
  assert.deepEqual(problems(staged({ path: "environments/production", targets: [{ name: "prod-eu", path: "a" }] })).map((p) => [p.code, p.field]), [["PIPELINE_SCHEMA", "environments[1].path"]]);
  assert.deepEqual(problems(staged({})).map((p) => [p.code, p.field]), [["PIPELINE_SCHEMA", "environments[1].path"]]);
  assert.deepEqual(problems(staged({ path: "environments/production", waveSoak: "5m" })).map((p) => [p.code, p.field]), [["PIPELINE_SCHEMA", "environments[1].waveSoak"]]);
  assert.deepEqual(problems(staged({ targets: [{ name: "prod-eu" }] })).map((p) => [p.code, p.field]), [["PIPELINE_SCHEMA", "environments[1].targets[0].path"]]);
  assert.deepEqual(problems(staged({ targets: [{ name: "prod-eu", path: "../x" }] })).map((p) => p.field), ["environments[1].targets[0].path"]);
  assert.deepEqual(problems(staged({ targets: [{ name: "prod-eu", path: "a", wave: 0 }] })).map((p) => [p.code, p.field]), [["PIPELINE_SCHEMA", "environments[1].targets[0].wave"]]);
  // promoteFrom may name a target, but not one of the stage's own.
  assert.deepEqual(problems(staged({ promoteFrom: "prod-eu", targets: [{ name: "prod-eu", path: "a" }] })).map((p) => p.code), ["PIPELINE_CYCLE"]);
});

test("a missing target folder is reported against that target's path field", async () => {
  const { validateRepo } = await import("../../src/config/repo.js");
  const report = await validateRepo(path.join(repoRoot, "test/fixtures/bad/target-missing-dir"));
  assert.deepEqual(report.errors.map((e) => [e.code, e.field, e.message]), [["ENV_DIR_NOT_FOUND", "environments[0].targets[0].path", 'target "prod-eu" of stage production folder environments/prod-eu does not exist']]);
});
