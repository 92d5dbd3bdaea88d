// A Helm environment on the real control plane: prod's chart is pushed with `helm push` to a real OCI
// registry and pinned by version and digest; the agent fetches it, renders it with prod's values by
// `helm template` and applies it in Argo CD sync-wave order; a promotion (an edit of prod's values) is
// applied, history names it, a rollback (a revert) brings the old digest back, and a digest the registry
// does not hold for that version, or a version never pushed, stalls the Environment with nothing applied.
// test-lane: shares-cluster
import { test } from "node:test";
import assert from "node:assert/strict";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { TestRegistry } from "../support/registry.js";
import { agentFixture, isReady } from "../support/agent-fixture.js";
import { digest } from "../support/config-repo.js";
import { loadPipeline } from "../../src/config/pipeline.js";
import { planPromotion } from "../../src/config/repo.js";
import { history } from "../../src/promote/history.js";
import { rollback } from "../../src/promote/rollback.js";

const chartDir = path.resolve(import.meta.dirname, "../fixtures/helm/charts/web");
const OLD = digest("helm-old");
const NEW = digest("helm-new");

async function chartFiles(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const file of ["Chart.yaml", "values.yaml", "templates/deployment.yaml", "templates/service.yaml"]) out[`charts/web/${file}`] = await fs.readFile(path.join(chartDir, file), "utf8");
  // Argo CD sync waves: three ConfigMaps before the Service and Deployment (wave 0), three after.
  out["charts/web/templates/waves.yaml"] = ["early", "late"].flatMap((when) => [1, 2, 3].map((i) =>
    `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${when}-${i}\n  annotations: {argocd.argoproj.io/sync-wave: "${when === "early" ? -1 : 1}"}\ndata: {}\n`)).join("---\n");
  return out;
}

const values = (web: string, tag: string) => `image:\n  repository: ghcr.io/acme/web\n  tag: "${tag}"\n  digest: "${web}"\nproxy:\n  image:\n    tag: "2.0@${OLD}"\n`;

const pipelineFile = (registry: TestRegistry, chartDigest: string, version = "0.3.0") => `apiVersion: baton.dev/v1alpha1\nkind: Pipeline\nchartRepositories: [oci://${registry.host}/charts]\nenvironments:\n`
  + "  - {name: dev, path: environments/dev, helm: {chart: charts/web}}\n"
  + `  - {name: prod, path: environments/prod, promoteFrom: dev, allowDirectPush: true, helm: {chart: oci://${registry.host}/charts/web, version: ${version}, digest: "${chartDigest}", releaseName: web}}\n`;

test("a Helm environment is promoted and rolled back through git, and the agent applies each commit", async () => {
  const registry = await TestRegistry.start();
  const chart = await chartFiles();
  const packaged = await fs.mkdtemp(path.join(os.tmpdir(), "baton-chart-"));
  for (const [file, text] of Object.entries(chart)) {
    await fs.mkdir(path.dirname(path.join(packaged, file)), { recursive: true });
    await fs.writeFile(path.join(packaged, file), text);
  }
  const chartDigest = await registry.pushChart(path.join(packaged, "charts/web"), "charts");
  const f = await agentFixture("helm", {
    "baton.yaml": pipelineFile(registry, chartDigest),
    ...chart,
    "environments/dev/values.yaml": values(NEW, "1.5.0"),
    "environments/prod/values.yaml": values(OLD, "1.4.0"),
  });
  try {
    await f.createEnvironment("prod", { path: "environments/prod" });
    const agent = await f.startAgent();
    const trigger = () => agent.controller.trigger(`${f.namespace}/prod`, "test");
    const initial = await f.repo.git("rev-parse", "HEAD");
    await f.waitForEnvironment("prod", "Ready", (e) => isReady(e, initial));
    assert.equal(await f.deploymentImage("web"), `ghcr.io/acme/web:1.4.0@${OLD}`);
    // Waves were applied in order: every wave -1 object was written before the Service, every wave 1 object after.
    const version = async (kind: string, name: string) => Number((await f.client.get("v1", kind, f.namespace, name))?.metadata.resourceVersion);
    const service = await version("Service", "web");
    for (const i of [1, 2, 3]) {
      assert.ok(await version("ConfigMap", `early-${i}`) < service, `early-${i} before the Service`);
      assert.ok(await version("ConfigMap", `late-${i}`) > service, `late-${i} after the Service`);
    }

    const plan = await planPromotion(f.repo.dir, await loadPipeline(f.repo.dir), "dev", "prod");
    assert.deepEqual(plan.edits.map((e) => e.file), ["environments/prod/values.yaml"]);
    const promoted = await f.repo.commit(Object.fromEntries(plan.edits.map((e) => [e.file, e.after])), "Promote web to prod");
    trigger();
    await f.waitForEnvironment("prod", "promotion applied", (e) => isReady(e, promoted));
    assert.equal(await f.deploymentImage("web"), `ghcr.io/acme/web:1.5.0@${NEW}`);
    const rows = await history(f.repo.dir, "prod");
    assert.deepEqual(rows.map((r) => r.commit), [promoted, initial]);
    assert.deepEqual(rows[0]?.changes, [{ repository: "ghcr.io/acme/web", from: OLD, to: NEW }]);

    const rolledBack = await rollback({ repo: f.repo.dir, env: "prod", push: true });
    assert.deepEqual(rolledBack.reverted.map((r) => r.sha), [promoted]);
    const reverted = await f.repo.git("rev-parse", "HEAD");
    trigger();
    await f.waitForEnvironment("prod", "rollback applied", (e) => isReady(e, reverted));
    assert.equal(await f.deploymentImage("web"), `ghcr.io/acme/web:1.4.0@${OLD}`);

    // baton.yaml pins a digest the registry does not have for 0.3.0: Stalled, the running objects stay.
    const wrong = await f.repo.commit({ "baton.yaml": pipelineFile(registry, digest("not-the-chart")) }, "Pin another chart digest");
    trigger();
    const stalled = await f.waitForEnvironment("prod", "digest mismatch refused", (e) => e.status?.lastAttemptedRevision === wrong && e.status.conditions?.some((c) => c.type === "Stalled" && c.status === "True") === true);
    assert.equal(stalled.status?.conditions?.find((c) => c.type === "Stalled")?.reason, "CHART_DIGEST_MISMATCH");
    assert.equal(stalled.status?.lastAppliedRevision, reverted);
    assert.equal(await f.deploymentImage("web"), `ghcr.io/acme/web:1.4.0@${OLD}`);

    // A chart version never pushed: Stalled too (a fix in git or a chart push, not a retry), naming chart, version and what to do.
    const missing = await f.repo.commit({ "baton.yaml": pipelineFile(registry, digest("not-the-chart"), "0.9.9") }, "Pin a chart version that was never pushed");
    trigger();
    const unpublished = await f.waitForEnvironment("prod", "missing chart version stalled", (e) => e.status?.lastAttemptedRevision === missing && e.status.conditions?.some((c) => c.type === "Stalled" && c.status === "True") === true);
    const stalledOn = unpublished.status?.conditions?.find((c) => c.type === "Stalled");
    assert.equal(stalledOn?.reason, "CHART_VERSION_NOT_FOUND");
    assert.equal(stalledOn?.message, `baton.yaml: environments[1].helm.version: environment "prod": chart oci://${registry.host}/charts/web has no version 0.9.9 in the registry; nothing was rendered (CHART_VERSION_NOT_FOUND)`
      + ` — set environments[1].helm.version to a version pushed there (helm show chart oci://${registry.host}/charts/web --version <v> checks one), or publish 0.9.9 first`);
    assert.equal(unpublished.status?.conditions?.find((c) => c.type === "Ready")?.reason, "ValidationFailed");
    assert.equal(unpublished.status?.lastAppliedRevision, reverted);
  } finally {
    await f.cleanup();
    await registry.stop();
  }
});
