// Bringing an existing config repo to Baton, on fixtures modelled on public Kargo, Flux and Argo CD layouts
// (written for these tests): real `kustomize build`, no cluster.
import { test } from "node:test";
import assert from "node:assert/strict";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { findEnvironment, loadPipeline } from "../../src/config/pipeline.js";
import { renderEnvironment } from "../../src/config/render.js";
import { parsePinArgument, planPin, planPromotion, validateRepo } from "../../src/config/repo.js";
import type { EditPlan } from "../../src/config/edit.js";
import { readPins } from "../../src/config/pins.js";
import { proposePipeline } from "../../src/config/init.js";
import { BatonError, BatonErrors } from "../../src/errors.js";
import { execFile } from "node:child_process";
import { useChartSource } from "../../src/config/chart-source.js";
import { RegistryClient } from "../../src/registry/client.js";
import { TestRegistry } from "../support/registry.js";
import { pinCommand, resolveTagged, type ResolvedImage } from "../../src/config/init-resolve.js";
import { git } from "../support/example-repo.js";
import { history } from "../../src/promote/history.js";
import { status } from "../../src/promote/status.js";
import { promisify } from "node:util";
import { createHash } from "node:crypto";
import http from "node:http";
import { cliArgs } from "../support/cli.js";

const fixtures = path.resolve(import.meta.dirname, "../fixtures");

/** The CLI as a user runs it; rejects with its stderr on a non-zero exit. */
async function baton(...args: string[]): Promise<string> {
  try {
    return (await promisify(execFile)(process.execPath, cliArgs(...args))).stdout;
  } catch (e) {
    throw new Error(String((e as { stderr?: string }).stderr ?? e));
  }
}
const D = (c: string) => `sha256:${c.repeat(64)}`;

async function copyFixture(name: string): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), `baton-${name}-`));
  await fs.cp(path.join(fixtures, name), dir, { recursive: true });
  return dir;
}

async function write(dir: string, plan: EditPlan): Promise<void> {
  for (const edit of plan.edits) await fs.writeFile(path.join(dir, edit.file), edit.after);
}

async function runs(dir: string, env: string): Promise<string[]> {
  const rendered = await renderEnvironment(dir, findEnvironment(await loadPipeline(dir), env));
  return [...readPins(rendered.objects, { requireDigests: false }).pins.values()].map((p) => `${p.repository}:${p.tag ?? "-"}@${p.digest ?? "-"}`);
}

test("a Kargo-style repo goes from tags to digests with `baton pin` only: newTag-only entries, a stage set only by the base, flow style", async () => {
  const dir = await copyFixture("kargo");
  const before = await validateRepo(dir);
  assert.deepEqual(before.errors.map((e) => `${e.code} ${e.file}`), [
    "PIN_NO_DIGEST stages/test (kustomize build)", "PIN_NO_DIGEST stages/uat (kustomize build)", "PIN_NO_DIGEST stages/prod (kustomize build)",
  ]);
  let pipeline = await loadPipeline(dir);
  const guestbook = (c: string, tag = "") => parsePinArgument(`guestbook=ghcr.io/acme/guestbook${tag}@${D(c)}`);

  // test: the entry has newTag only; the digest is added next to it and the tag stays readable.
  await write(dir, await planPin(dir, pipeline, "test", [guestbook("a")]));
  assert.equal(await fs.readFile(path.join(dir, "stages/test/kustomization.yaml"), "utf8"),
    `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ../../base\nimages:\n  - name: ghcr.io/acme/guestbook\n    newTag: v0.2.0 # written by Kargo's kustomize-set-image\n    digest: ${D("a")}\n`);
  assert.deepEqual(await runs(dir, "test"), [`ghcr.io/acme/guestbook:v0.2.0@${D("a")}`]);

  // uat: only the shared base sets the image; the stage's own kustomization gets the images: entry (the base is untouched).
  const uat = await planPin(dir, pipeline, "uat", [guestbook("b")]);
  assert.deepEqual(uat.edits.map((e) => e.file), ["stages/uat/kustomization.yaml"]);
  assert.deepEqual(uat.changes.map((c) => [c.repository, c.sites]), [["ghcr.io/acme/guestbook", [{ file: "stages/uat/kustomization.yaml", line: 6 }]]]);
  await write(dir, uat);
  assert.equal(await fs.readFile(path.join(dir, "stages/uat/kustomization.yaml"), "utf8"),
    `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ../../base\nimages:\n  - name: ghcr.io/acme/guestbook\n    newTag: v0.1.0\n    digest: ${D("b")}\n`);
  assert.deepEqual(await runs(dir, "uat"), [`ghcr.io/acme/guestbook:v0.1.0@${D("b")}`]);

  // prod: a flow-style entry stays flow style.
  await write(dir, await planPin(dir, pipeline, "prod", [guestbook("c")]));
  assert.match(await fs.readFile(path.join(dir, "stages/prod/kustomization.yaml"), "utf8"), new RegExp(`\nimages: \\[\\{name: ghcr.io/acme/guestbook, newTag: v0.1.0, digest: ${D("c")}\\}\\]\n$`));

  pipeline = await loadPipeline(dir);
  const after = await validateRepo(dir);
  assert.deepEqual(after.errors.map((e) => e.oneLine()), []);
  assert.equal(await fs.readFile(path.join(dir, "base/deploy.yaml"), "utf8"), await fs.readFile(path.join(fixtures, "kargo/base/deploy.yaml"), "utf8"));

  // From here on promotions move digests and tags together, and a digest pinned without a tag drops the stale one.
  const promotion = await planPromotion(dir, pipeline, "test", "uat");
  await write(dir, promotion);
  assert.deepEqual(await runs(dir, "uat"), [`ghcr.io/acme/guestbook:v0.2.0@${D("a")}`]);
  await write(dir, await planPin(dir, pipeline, "test", [guestbook("d")]));
  assert.doesNotMatch(await fs.readFile(path.join(dir, "stages/test/kustomization.yaml"), "utf8"), /newTag/);
  assert.deepEqual(await runs(dir, "test"), [`ghcr.io/acme/guestbook:-@${D("d")}`]);
  await write(dir, await planPin(dir, pipeline, "test", [guestbook("e", ":v0.3.0")]));
  assert.deepEqual(await runs(dir, "test"), [`ghcr.io/acme/guestbook:v0.3.0@${D("e")}`]);
});

test("a Helm environment renders with helm template, and pin and promote edit only the values' image scalars", async () => {
  const dir = await copyFixture("helm");
  const pipeline = await loadPipeline(dir);
  const prod = await renderEnvironment(dir, findEnvironment(pipeline, "prod"));
  assert.equal(prod.mode, "helm");
  assert.deepEqual(prod.objects.map((o) => `${o.id.kind}/${o.id.namespace}/${o.id.name}`), ["Service/web-prod/web", "Deployment/web-prod/web"]);
  assert.equal((prod.objects[1]?.object.spec as { replicas: number }).replicas, 3, "values files apply in order");
  assert.deepEqual((await validateRepo(dir)).errors.map((e) => `${e.code} ${e.file} ${e.field}`), [
    "PIN_NO_DIGEST environments/dev (helm template charts/web) spec.template.spec.containers[0].image",
    "PIN_NO_DIGEST environments/dev (helm template charts/web) spec.template.spec.containers[1].image",
    "PIN_NO_DIGEST environments/prod (helm template charts/web) spec.template.spec.containers[0].image",
    "PIN_NO_DIGEST environments/prod (helm template charts/web) spec.template.spec.containers[1].image",
  ]);

  // dev overrides only the tags; the repositories come from the chart's values.yaml. No digest value in dev: the pin rides in the tag.
  const devValues = await fs.readFile(path.join(dir, "environments/dev/values.yaml"), "utf8");
  const dev = await planPin(dir, pipeline, "dev", [parsePinArgument(`ghcr.io/acme/web@${D("a")}`), parsePinArgument(`ghcr.io/acme/proxy@${D("b")}`)]);
  assert.equal(dev.edits[0]?.after, devValues.replace("tag: \"1.5.0\"", `tag: "1.5.0@${D("a")}"`).replace("tag: \"2.1\"", `tag: "2.1@${D("b")}"`));
  await write(dir, dev);
  assert.deepEqual(await runs(dir, "dev"), [`ghcr.io/acme/web:1.5.0@${D("a")}`, `ghcr.io/acme/proxy:2.1@${D("b")}`]);

  // prod has a digest value (the chart reads it) but no proxy override: pin names the fix; with it, both are pinned.
  const prodPins = [parsePinArgument(`ghcr.io/acme/web@${D("c")}`), parsePinArgument(`ghcr.io/acme/proxy@${D("d")}`)];
  await assert.rejects(planPin(dir, pipeline, "prod", prodPins), (e: unknown) => e instanceof Error && "code" in e && e.code === "PIN_NOT_FOUND"
    && /ghcr.io\/acme\/proxy is set outside environments\/prod\/ \(only by the chart's default values\)/.test(e.message));
  await fs.appendFile(path.join(dir, "environments/prod/values.yaml"), "proxy:\n  image:\n    tag: \"2.0\"\n");
  await write(dir, await planPin(dir, pipeline, "prod", prodPins));
  assert.deepEqual(await runs(dir, "prod"), [`ghcr.io/acme/web:1.4.0@${D("c")}`, `ghcr.io/acme/proxy:2.0@${D("d")}`]);
  assert.deepEqual((await validateRepo(dir)).errors.map((e) => e.oneLine()), []);

  const prodValues = await fs.readFile(path.join(dir, "environments/prod/values.yaml"), "utf8");
  const promotion = await planPromotion(dir, pipeline, "dev", "prod");
  assert.deepEqual(promotion.edits.map((e) => e.file), ["environments/prod/values.yaml"]);
  assert.equal(promotion.edits[0]?.after, prodValues.replace("tag: \"1.4.0\"", "tag: \"1.5.0\"").replace(D("c"), D("a")).replace(`tag: "2.0@${D("d")}"`, `tag: "2.1@${D("b")}"`));
  await write(dir, promotion);
  assert.deepEqual(await runs(dir, "prod"), [`ghcr.io/acme/web:1.5.0@${D("a")}`, `ghcr.io/acme/proxy:2.1@${D("b")}`]);
  const again = await planPromotion(dir, pipeline, "dev", "prod");
  assert.equal(again.noop, true);
});

test("a chart whose values name images their own way: the paths declared in baton.yaml's helm.images are pinned in place", async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "baton-helm-paths-"));
  const files: Record<string, string> = {
    "baton.yaml": "apiVersion: baton.dev/v1alpha1\nkind: Pipeline\nenvironments:\n  - name: dev\n    path: environments/dev\n    helm:\n      chart: charts/app\n"
      + "      images: [{path: app.container.img}, {repository: ghcr.io/acme/proxy, tagPath: sidecars.proxyVersion}]\n",
    "charts/app/Chart.yaml": "apiVersion: v2\nname: app\nversion: 1.0.0\n",
    "charts/app/templates/deployment.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: app}\nspec:\n  selector: {matchLabels: {app: app}}\n  template:\n    metadata: {labels: {app: app}}\n    spec:\n      containers:\n"
      + "        - {name: app, image: {{ .Values.app.container.img | quote }}}\n        - {name: proxy, image: \"ghcr.io/acme/proxy:{{ .Values.sidecars.proxyVersion }}\"}\n",
    "environments/dev/values.yaml": "app:\n  container:\n    img: ghcr.io/acme/app:3.1\nsidecars:\n  proxyVersion: \"2.0\"\n",
  };
  for (const [file, text] of Object.entries(files)) {
    await fs.mkdir(path.dirname(path.join(dir, file)), { recursive: true });
    await fs.writeFile(path.join(dir, file), text);
  }
  const plan = await planPin(dir, await loadPipeline(dir), "dev", [parsePinArgument(`ghcr.io/acme/app@${D("a")}`), parsePinArgument(`ghcr.io/acme/proxy@${D("b")}`)]);
  assert.deepEqual(plan.edits.map((e) => e.after), [`app:\n  container:\n    img: ghcr.io/acme/app:3.1@${D("a")}\nsidecars:\n  proxyVersion: "2.0@${D("b")}"\n`]);
  await write(dir, plan);
  assert.deepEqual(await runs(dir, "dev"), [`ghcr.io/acme/app:3.1@${D("a")}`, `ghcr.io/acme/proxy:2.0@${D("b")}`]);
});

test("an oci:// chart pushed with helm push renders like the chart in the repo; pinned by digest it is cached, and a re-pushed version is refused", async () => {
  const registry = await TestRegistry.start();
  const cacheOf = async () => fs.mkdtemp(path.join(os.tmpdir(), "baton-charts-"));
  try {
    const pushed = await registry.pushChart(path.join(fixtures, "helm/charts/web"), "charts");
    const dir = await copyFixture("helm");
    await fs.rm(path.join(dir, "charts"), { recursive: true });
    const chart = `oci://${registry.host}/charts/web`;
    const pipelineYaml = (dev: string) => `apiVersion: baton.dev/v1alpha1\nkind: Pipeline\nchartRepositories: ["oci://${registry.host}/charts"]\nenvironments:\n`
      + `  - {name: dev, path: environments/dev, namespace: web-dev, requireDigests: false, helm: {chart: "${chart}", ${dev}}}\n`
      + `  - name: prod\n    path: environments/prod\n    promoteFrom: dev\n    namespace: web-prod\n    requireDigests: false\n    helm:\n      chart: "${chart}"\n      version: 0.3.0 # promoted from dev\n      digest: "${pushed}"\n      values: [values.yaml, replicas.yaml]\n      releaseName: web\n`;
    await fs.writeFile(path.join(dir, "baton.yaml"), pipelineYaml("version: 0.3.0"));
    const cache = await cacheOf();
    useChartSource({ cacheDir: cache, registry: new RegistryClient() });
    const pipeline = await loadPipeline(dir);
    const prod = await renderEnvironment(dir, findEnvironment(pipeline, "prod"));
    assert.deepEqual(prod.objects.map((o) => `${o.id.kind}/${o.id.namespace}/${o.id.name}`), ["Service/web-prod/web", "Deployment/web-prod/web"]);
    assert.equal((prod.objects[1]?.object.spec as { replicas: number }).replicas, 3);
    assert.deepEqual(await fs.readdir(cache), [`${pushed.replace(":", "-")}.tgz`], "cached by the manifest digest");
    // dev overrides only tags: the repositories come from the fetched chart's values.yaml, so pin finds them.
    await write(dir, await planPin(dir, pipeline, "dev", [parsePinArgument(`ghcr.io/acme/web@${D("a")}`), parsePinArgument(`ghcr.io/acme/proxy@${D("b")}`)]));
    assert.deepEqual((await runs(dir, "dev"))[0], `ghcr.io/acme/web:1.5.0@${D("a")}`);

    // The same version pushed again with other content: a pinned digest keeps rendering the chart it names
    // from the cache; without that cache (a new agent), the registry's new digest is refused and nothing renders.
    const changed = await fs.mkdtemp(path.join(os.tmpdir(), "baton-chart-"));
    await fs.cp(path.join(fixtures, "helm/charts/web"), changed, { recursive: true });
    await fs.appendFile(path.join(changed, "templates/service.yaml"), "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: surprise}\n");
    const repushed = await registry.pushChart(changed, "charts");
    assert.notEqual(repushed, pushed);
    assert.equal((await renderEnvironment(dir, findEnvironment(pipeline, "prod"))).objects.length, 2);
    useChartSource({ cacheDir: await cacheOf(), registry: new RegistryClient() });
    await assert.rejects(renderEnvironment(dir, findEnvironment(pipeline, "prod")), (e: unknown) => e instanceof BatonError && e.code === "CHART_DIGEST_MISMATCH"
      && e.field === "environments[1].helm.digest" && e.message.includes(`${chart}:0.3.0 is ${repushed} in the registry, but baton.yaml pins ${pushed}`));
    assert.equal((await renderEnvironment(dir, findEnvironment(pipeline, "dev"))).objects.length, 3, "an unpinned digest follows the version");

    // Promoting a chart version: dev runs 0.4.0 (pinned by digest); the promotion moves prod's version and
    // digest in baton.yaml with its values, status lists the chart, and history names the move.
    useChartSource({ cacheDir: cache, registry: new RegistryClient() });
    const next = await fs.mkdtemp(path.join(os.tmpdir(), "baton-chart-"));
    await fs.cp(path.join(fixtures, "helm/charts/web"), next, { recursive: true });
    await fs.writeFile(path.join(next, "Chart.yaml"), (await fs.readFile(path.join(next, "Chart.yaml"), "utf8")).replace("version: 0.3.0", "version: 0.4.0"));
    await fs.appendFile(path.join(next, "templates/service.yaml"), "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: new-in-0-4}\n");
    const v4 = await registry.pushChart(next, "charts");
    await fs.writeFile(path.join(dir, "baton.yaml"), pipelineYaml(`version: 0.4.0, digest: "${v4}"`));
    await fs.appendFile(path.join(dir, "environments/prod/values.yaml"), "proxy:\n  image:\n    tag: \"2.0\"\n");
    await git(dir, "init", "-q");
    await git(dir, "add", "-A");
    await git(dir, "-c", "user.name=Dev", "-c", "user.email=dev@example.com", "commit", "-qm", "dev runs chart 0.4.0");
    const before = await fs.readFile(path.join(dir, "baton.yaml"), "utf8");
    const promotion = await planPromotion(dir, await loadPipeline(dir), "dev", "prod");
    assert.deepEqual(promotion.changes.filter((c) => c.repository === chart).map((c) => [c.from.tag, c.from.digest, c.to.tag, c.to.digest, c.sites]), [["0.3.0", pushed, "0.4.0", v4, [{ file: "baton.yaml", line: 13 }]]]);
    assert.equal(promotion.edits.find((e) => e.file === "baton.yaml")?.after, before.replace(`version: 0.3.0 # promoted from dev\n      digest: "${pushed}"`, `version: 0.4.0 # promoted from dev\n      digest: "${v4}"`));
    await write(dir, promotion);
    await git(dir, "-c", "user.name=Dev", "-c", "user.email=dev@example.com", "commit", "-qam", "Promote to prod");
    assert.ok((await renderEnvironment(dir, findEnvironment(await loadPipeline(dir), "prod"))).objects.some((o) => o.id.name === "new-in-0-4"), "prod renders 0.4.0");
    const prodStatus = (await status(dir)).environments.find((e) => e.name === "prod");
    assert.equal(prodStatus?.error, undefined);
    assert.deepEqual(prodStatus?.images.filter((i) => i.repository === chart), [{ repository: chart, digest: v4, tag: "0.4.0", rejected: false }]);
    const rows = await history(dir, "prod");
    assert.deepEqual(rows[0]?.changes.filter((c) => c.repository === chart), [{ repository: chart, from: `0.3.0@${pushed}`, to: `0.4.0@${v4}` }]);
    assert.equal((await planPromotion(dir, await loadPipeline(dir), "dev", "prod")).changes.some((c) => c.repository === chart), false, "nothing left to move");

    // A chart from a registry baton.yaml does not name is refused before anything is fetched.
    await fs.writeFile(path.join(dir, "baton.yaml"), (await fs.readFile(path.join(dir, "baton.yaml"), "utf8")).replace(`oci://${registry.host}/charts"]`, "oci://ghcr.io/acme/charts\"]"));
    await assert.rejects(loadPipeline(dir), (e: unknown) => e instanceof BatonErrors && e.errors.map((x) => `${x.code} ${x.field}`).join() === "CHART_SOURCE_NOT_ALLOWED environments[0].helm.chart,CHART_SOURCE_NOT_ALLOWED environments[1].helm.chart");
  } finally {
    await registry.stop();
  }
});

test("an https:// chart from an HTTP chart repository (index.yaml): fetched at its version, checked against the index's and the pinned digest, cached", async () => {
  const helm = path.join(process.env.BATON_TEST_BIN ?? "", "helm");
  const served = await fs.mkdtemp(path.join(os.tmpdir(), "baton-chart-repo-"));
  const helmEnv = { ...process.env, HOME: served, HELM_CONFIG_HOME: path.join(served, ".config"), HELM_CACHE_HOME: path.join(served, ".cache"), HELM_DATA_HOME: path.join(served, ".data") };
  await promisify(execFile)(helm, ["package", path.join(fixtures, "helm/charts/web"), "--destination", served], { env: helmEnv });
  await promisify(execFile)(helm, ["repo", "index", served], { env: helmEnv });
  const tgz = await fs.readFile(path.join(served, "web-0.3.0.tgz"));
  const digest = `sha256:${createHash("sha256").update(tgz).digest("hex")}`;
  const files = new Map([["/charts/index.yaml", await fs.readFile(path.join(served, "index.yaml"))], ["/charts/web-0.3.0.tgz", tgz]]);
  const server = http.createServer((req, res) => {
    const body = files.get(req.url ?? "");
    res.writeHead(body ? 200 : 404).end(body ?? "not found");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    const repo = `http://127.0.0.1:${(server.address() as { port: number }).port}/charts`;
    const dir = await copyFixture("helm");
    await fs.rm(path.join(dir, "charts"), { recursive: true });
    const pipelineYaml = (prod: string) => `apiVersion: baton.dev/v1alpha1\nkind: Pipeline\nchartRepositories: ["${repo}"]\nenvironments:\n`
      + `  - {name: dev, path: environments/dev, requireDigests: false, helm: {chart: "${repo}/web", version: 0.3.0}}\n`
      + `  - {name: prod, path: environments/prod, promoteFrom: dev, namespace: web-prod, requireDigests: false, helm: {chart: "${repo}/web", ${prod}, values: [values.yaml, replicas.yaml]}}\n`;
    await fs.writeFile(path.join(dir, "baton.yaml"), pipelineYaml(`version: 0.3.0, digest: "${digest}"`));
    const cache = await fs.mkdtemp(path.join(os.tmpdir(), "baton-charts-"));
    useChartSource({ cacheDir: cache, registry: new RegistryClient() });
    const prod = await renderEnvironment(dir, findEnvironment(await loadPipeline(dir), "prod"));
    assert.deepEqual(prod.objects.map((o) => `${o.id.kind}/${o.id.namespace}/${o.id.name}`), ["Service/web-prod/prod", "Deployment/web-prod/prod"]);
    assert.deepEqual(await fs.readdir(cache), [`${digest.replace(":", "-")}.tgz`], "cached by the archive's digest");

    const fresh = async () => useChartSource({ cacheDir: await fs.mkdtemp(path.join(os.tmpdir(), "baton-charts-")), registry: new RegistryClient() });
    await fresh();
    await fs.writeFile(path.join(dir, "baton.yaml"), pipelineYaml(`version: 0.3.0, digest: "${D("e")}"`));
    await assert.rejects(renderEnvironment(dir, findEnvironment(await loadPipeline(dir), "prod")), (e: unknown) => e instanceof BatonError && e.code === "CHART_DIGEST_MISMATCH"
      && e.field === "environments[1].helm.digest" && e.message.includes(`the index's digest is ${digest}, but baton.yaml pins ${D("e")}`));
    await fs.writeFile(path.join(dir, "baton.yaml"), pipelineYaml("version: 9.9.9"));
    await assert.rejects(renderEnvironment(dir, findEnvironment(await loadPipeline(dir), "prod")), (e: unknown) => e instanceof BatonError && e.code === "CHART_VERSION_NOT_FOUND" && e.field === "environments[1].helm.version");
    // The archive changed on the server while the index still lists the old digest: refused even where no digest is pinned.
    files.set("/charts/web-0.3.0.tgz", Buffer.concat([tgz, Buffer.from("tampered")]));
    await assert.rejects(renderEnvironment(dir, findEnvironment(await loadPipeline(dir), "dev")), (e: unknown) => e instanceof BatonError && e.code === "CHART_DIGEST_MISMATCH"
      && e.message.includes(`but the index lists ${digest}`));
    // An index that places the archive elsewhere: fetched only with a pinned digest (its content is then checked).
    const elsewhere = `${repo.replace(/\/charts$/, "")}/elsewhere/web-0.3.0.tgz`;
    files.set("/elsewhere/web-0.3.0.tgz", tgz);
    files.set("/charts/index.yaml", Buffer.from((files.get("/charts/index.yaml") as Buffer).toString("utf8").replace(/- web-0\.3\.0\.tgz/, `- ${elsewhere}`)));
    await assert.rejects(renderEnvironment(dir, findEnvironment(await loadPipeline(dir), "dev")), (e: unknown) => e instanceof BatonError && e.code === "CHART_SOURCE_NOT_ALLOWED"
      && e.message.includes(`at ${elsewhere}, outside ${repo}/`));
    await fs.writeFile(path.join(dir, "baton.yaml"), pipelineYaml(`version: 0.3.0, digest: "${digest}"`));
    assert.equal((await renderEnvironment(dir, findEnvironment(await loadPipeline(dir), "prod"))).objects.length, 2);
  } finally {
    server.close();
  }
});

async function repoOf(files: Record<string, string>): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "baton-init-"));
  for (const [file, text] of Object.entries(files)) {
    await fs.mkdir(path.dirname(path.join(dir, file)), { recursive: true });
    await fs.writeFile(path.join(dir, file), text);
  }
  return dir;
}

const deployment = (image: string) => `apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers: [{name: web, image: "${image}"}]\n`;

test("baton init --resolve asks the registry which digest each tag names, prints the pins, and pins them only with --write", async () => {
  const registry = await TestRegistry.start();
  try {
    const web = registry.repo("acme/web");
    await registry.pushImage("acme/web", "1.0.0", { content: "web 1.0.0" });
    await registry.crane("mutate", `${web}:1.0.0`, "--label", "version=1.1.0", "-t", `${web}:1.1.0`);
    const [d100, d110] = [await registry.crane("digest", `${web}:1.0.0`), await registry.crane("digest", `${web}:1.1.0`)];
    assert.notEqual(d100, d110);
    // Kargo-style stages: dev and qa set a newTag (qa's does not exist), prod runs what the base says.
    const files = {
      "base/kustomization.yaml": "resources: [web.yaml]\n", "base/web.yaml": deployment(`${web}:1.0.0`),
      "stages/dev/kustomization.yaml": `resources: [../../base]\nimages:\n  - name: ${web}\n    newTag: 1.1.0\n`,
      "stages/qa/kustomization.yaml": `resources: [../../base]\nimages:\n  - name: ${web}\n    newTag: 9.9.9\n`,
      "stages/prod/kustomization.yaml": "resources: [../../base]\n",
    };
    const dir = await repoOf(files);
    const resolved = await resolveTagged((await proposePipeline(dir)).tagged, new RegistryClient());
    assert.deepEqual(resolved.map((r) => `${r.env} ${r.digest ?? (r.error?.includes("(REGISTRY_NOT_FOUND)") ? "REGISTRY_NOT_FOUND" : r.error)}`), [`dev ${d110}`, "qa REGISTRY_NOT_FOUND", `prod ${d100}`]);
    assert.equal(pinCommand(resolved[0] as ResolvedImage), `baton pin dev web=${web}:1.1.0@${d110}`);
    for (const [file, text] of Object.entries(files)) assert.equal(await fs.readFile(path.join(dir, file), "utf8"), text, "nothing written without --write");

    const printed = await baton("init", "--repo", dir, "--resolve", "--write");
    assert.match(printed, new RegExp(`pinned \\(digests from the registries; stages/dev/kustomization.yaml, stages/prod/kustomization.yaml written\\):\n  baton pin dev web=${web}:1.1.0@${d110}\n  ${web}:9.9.9 in qa: not resolved: [^\\n]*does not exist[^\\n]*REGISTRY_NOT_FOUND`));
    assert.deepEqual(await runs(dir, "dev"), [`${web}:1.1.0@${d110}`]);
    assert.deepEqual(await runs(dir, "prod"), [`${web}:1.0.0@${d100}`]);
    assert.equal(await fs.readFile(path.join(dir, "base/web.yaml"), "utf8"), files["base/web.yaml"], "the shared base is never edited");
    assert.deepEqual((await validateRepo(dir)).errors.map((e) => `${e.code} ${e.file}`), ["PIN_NO_DIGEST stages/qa (kustomize build)"]);
  } finally {
    await registry.stop();
  }
});

test("baton init finds the environments of each common layout, orders them, and lists the images still on a tag", async () => {
  // Kargo: stages/<stage> overlays over a shared base.
  const kargo = await proposePipeline(path.join(fixtures, "kargo"));
  assert.deepEqual(kargo.environments.map((e) => `${e.name} ${e.path} ${e.kind}`), ["test stages/test kustomize", "uat stages/uat kustomize", "prod stages/prod kustomize"]);
  assert.deepEqual(kargo.tagged.map((t) => t.fix), [
    "baton pin test guestbook=ghcr.io/acme/guestbook:v0.2.0@sha256:<digest of ghcr.io/acme/guestbook:v0.2.0>",
    "baton pin uat guestbook=ghcr.io/acme/guestbook:v0.1.0@sha256:<digest of ghcr.io/acme/guestbook:v0.1.0>",
    "baton pin prod guestbook=ghcr.io/acme/guestbook:v0.1.0@sha256:<digest of ghcr.io/acme/guestbook:v0.1.0>",
  ]);

  // Argo CD's example: <app>/overlays/<env> with the namespace in each overlay; production is named first alphabetically, promoted last.
  const argo = await proposePipeline(await repoOf({
    "guestbook/base/kustomization.yaml": "resources: [web.yaml]\n", "guestbook/base/web.yaml": deployment("ghcr.io/acme/web:1.0"),
    "guestbook/overlays/production/kustomization.yaml": "namespace: guestbook-prod\nresources: [../../base]\n",
    "guestbook/overlays/staging/kustomization.yaml": "namespace: guestbook-staging\nresources: [../../base]\n",
  }));
  assert.equal(argo.layout, "guestbook/overlays");
  assert.match(argo.pipelineText, /- name: staging\n {4}path: guestbook\/overlays\/staging\n {4}namespace: guestbook-staging\n {2}- name: production\n {4}path: guestbook\/overlays\/production\n {4}promoteFrom: staging\n {4}namespace: guestbook-prod\n/);

  // Flux: apps/<env> overlays are what runs; clusters/<env> hold Flux's own objects and lose the tie to apps/.
  const flux = await proposePipeline(await repoOf({
    "apps/base/podinfo/kustomization.yaml": "resources: [web.yaml]\n", "apps/base/podinfo/web.yaml": deployment("ghcr.io/acme/podinfo@sha256:" + "a".repeat(64)),
    "apps/production/kustomization.yaml": "resources: [../base/podinfo]\n", "apps/staging/kustomization.yaml": "resources: [../base/podinfo]\n",
    "clusters/production/apps.yaml": "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata: {name: apps}\nspec: {path: ./apps/production}\n",
    "clusters/staging/apps.yaml": "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata: {name: apps}\nspec: {path: ./apps/staging}\n",
  }));
  assert.deepEqual(flux.environments.map((e) => e.path), ["apps/staging", "apps/production"]);
  assert.deepEqual(flux.tagged, [], "already pinned by digest: nothing to list");

  // A chart with each environment's values in its own folder.
  const helm = await proposePipeline(path.join(fixtures, "helm"));
  assert.deepEqual(helm.environments.map((e) => [e.name, e.kind, e.helm?.chart, e.helm?.values]), [["dev", "helm", "charts/web", ["values.yaml"]], ["prod", "helm", "charts/web", ["values.yaml", "replicas.yaml"]]]);
  assert.deepEqual(helm.tagged.map((t) => `${t.env} ${t.image}`), ["dev ghcr.io/acme/web:1.5.0", "dev ghcr.io/acme/proxy:2.1", "prod ghcr.io/acme/web:1.4.0", "prod ghcr.io/acme/proxy:2.0"]);

  // Nothing that looks like environments: say where to put them.
  await assert.rejects(proposePipeline(await repoOf({ "web.yaml": deployment("nginx:1.27") })), (e: unknown) => e instanceof BatonError && e.code === "INIT_NO_ENVIRONMENTS" && /overlays\/dev/.test(e.hint ?? ""));
});

test("baton init on a chart with values-<env>.yaml beside it prints the moves, and --write moves the values, writes baton.yaml, and refuses to overwrite it", async () => {
  const dir = await repoOf({});
  await fs.cp(path.join(fixtures, "helm/charts"), path.join(dir, "charts"), { recursive: true });
  await fs.writeFile(path.join(dir, "charts/web/values-production.yaml"), "image:\n  tag: \"1.4.0\"\n");
  await fs.writeFile(path.join(dir, "charts/web/values-dev.yaml"), "image:\n  tag: \"1.5.0\"\n");
  const printed = await baton("init", "--repo", dir);
  assert.match(printed, /^dev +environments\/dev +helm +-\nproduction +environments\/production +helm +dev$/m);
  assert.match(printed, /^move charts\/web\/values-dev\.yaml → environments\/dev\/values\.yaml$/m);
  await assert.rejects(fs.stat(path.join(dir, "baton.yaml")), "nothing is written without --write");
  await baton("init", "--repo", dir, "--write");
  assert.equal(await fs.readFile(path.join(dir, "environments/production/values.yaml"), "utf8"), "image:\n  tag: \"1.4.0\"\n");
  const report = await validateRepo(dir);
  assert.deepEqual(report.errors.map((e) => `${e.code} ${e.file}`), [
    "PIN_NO_DIGEST environments/dev (helm template charts/web)", "PIN_NO_DIGEST environments/dev (helm template charts/web)",
    "PIN_NO_DIGEST environments/production (helm template charts/web)", "PIN_NO_DIGEST environments/production (helm template charts/web)",
  ]);
  await assert.rejects(baton("init", "--repo", dir, "--write"), /INIT_EXISTS/);
});

test("a Flux-style plain folder builds its sub-folders with kustomization.yaml by kustomize; one that reads another environment's folder is refused", async () => {
  const podinfo = `ghcr.io/acme/podinfo@${D("c")}`;
  const dir = await repoOf({
    "baton.yaml": "apiVersion: baton.dev/v1alpha1\nkind: Pipeline\nenvironments:\n  - {name: staging, path: clusters/staging, namespace: podinfo}\n  - {name: production, path: clusters/production, promoteFrom: staging, namespace: podinfo}\n",
    "apps/base/podinfo/kustomization.yaml": "resources: [web.yaml]\n",
    "apps/base/podinfo/web.yaml": deployment("ghcr.io/acme/podinfo:6.0"),
    "clusters/staging/namespace.yaml": "apiVersion: v1\nkind: Namespace\nmetadata: {name: podinfo}\n",
    "clusters/staging/podinfo/kustomization.yaml": `resources: [../../../apps/base/podinfo]\nimages:\n  - name: ghcr.io/acme/podinfo\n    digest: ${D("a")}\n`,
    "clusters/staging/podinfo/unused-patch.yaml": "this file is read by kustomize only if named: not rendered on its own\n",
    "clusters/production/podinfo/kustomization.yaml": "resources: [../../staging/podinfo]\n",
    "clusters/production/hooks/job.yaml": "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: migrate\n  annotations: {\"helm.sh/hook\": pre-upgrade}\nspec:\n  template:\n    spec:\n      restartPolicy: Never\n      containers: [{name: m, image: \"" + podinfo + "\"}]\n",
  });
  const pipeline = await loadPipeline(dir);
  const staging = await renderEnvironment(dir, findEnvironment(pipeline, "staging"));
  assert.equal(staging.mode, "plain");
  assert.deepEqual(staging.objects.map((o) => `${o.id.kind}/${o.id.name} ${o.source.file}`), ["Namespace/podinfo clusters/staging/namespace.yaml", "Deployment/web clusters/staging/podinfo (kustomize build)"]);
  assert.deepEqual(await runs(dir, "staging"), [`ghcr.io/acme/podinfo:-@${D("a")}`]);
  // pin edits the nested kustomization's images: entry.
  const plan = await planPin(dir, pipeline, "staging", [parsePinArgument(`ghcr.io/acme/podinfo@${D("b")}`)]);
  assert.deepEqual(plan.edits.map((e) => e.file), ["clusters/staging/podinfo/kustomization.yaml"]);

  const report = await validateRepo(dir);
  assert.deepEqual(report.errors.map((e) => `${e.code} ${e.file} ${e.field}`), ["ENV_CROSS_REFERENCE clusters/production/podinfo/kustomization.yaml resources[0]"]);
  assert.deepEqual(report.environments, [], "an environment another can change makes no environment good");
  await fs.writeFile(path.join(dir, "clusters/production/podinfo/kustomization.yaml"), "resources: [../../../apps/base/podinfo]\nimages:\n  - {name: ghcr.io/acme/podinfo, digest: " + D("c") + "}\n");
  const fixed = await validateRepo(dir);
  assert.deepEqual(fixed.errors.map((e) => e.oneLine()), []);
  assert.deepEqual(fixed.environments.find((e) => e.name === "production")?.ignoredAnnotations.map((a) => `${a.file} ${a.annotation}`), ["clusters/production/hooks/job.yaml helm.sh/hook"]);
});

test("a Flux HelmRelease's values images are pins: validate lists them, pin and promote edit the overlay's values patch, status and history show them", async () => {
  const podinfo = "ghcr.io/stefanprodan/podinfo";
  const release = "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: podinfo, namespace: podinfo}\nspec:\n  interval: 10m\n"
    + "  chart: {spec: {chart: podinfo, version: 6.5.0, sourceRef: {kind: HelmRepository, name: podinfo}}}\n"
    + `  values:\n    replicaCount: 1\n    image:\n      repository: ${podinfo}\n      tag: 6.5.0\n`;
  const patch = (tag: string) => `apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: podinfo\n  namespace: podinfo\nspec:\n  values:\n    image:\n      tag: "${tag}" # the ${tag} build\n`;
  const overlay = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [../base/podinfo]\npatches:\n  - path: podinfo-values.yaml\n";
  const dir = await repoOf({
    "baton.yaml": "apiVersion: baton.dev/v1alpha1\nkind: Pipeline\nenvironments:\n  - {name: staging, path: apps/staging, namespace: podinfo}\n  - {name: production, path: apps/production, promoteFrom: staging, namespace: podinfo}\n",
    "apps/base/podinfo/kustomization.yaml": "resources: [release.yaml]\n",
    "apps/base/podinfo/release.yaml": release,
    "apps/staging/kustomization.yaml": overlay,
    "apps/staging/podinfo-values.yaml": patch("6.6.0"),
    "apps/production/kustomization.yaml": "resources: [../base/podinfo]\n",
  });
  assert.deepEqual((await validateRepo(dir)).errors.map((e) => `${e.code} ${e.file} ${e.object} ${e.field}`), [
    "PIN_NO_DIGEST apps/staging (kustomize build) helm.toolkit.fluxcd.io/v2 HelmRelease podinfo/podinfo spec.values.image",
    "PIN_NO_DIGEST apps/production (kustomize build) helm.toolkit.fluxcd.io/v2 HelmRelease podinfo/podinfo spec.values.image",
  ]);
  const pipeline = await loadPipeline(dir);
  // production takes the image from the shared base's HelmRelease: kustomize's images: cannot reach values, so pin says what to add.
  await assert.rejects(planPin(dir, pipeline, "production", [parsePinArgument(`${podinfo}@${D("b")}`)]), (e: unknown) => e instanceof BatonError && e.code === "PIN_NOT_FOUND"
    && e.message === `${podinfo} is set by HelmRelease podinfo's spec.values.image in a file outside apps/production/`);
  await fs.writeFile(path.join(dir, "apps/production/kustomization.yaml"), overlay);
  await fs.writeFile(path.join(dir, "apps/production/podinfo-values.yaml"), patch("6.5.0"));
  const staging = await planPin(dir, pipeline, "staging", [parsePinArgument(`${podinfo}@${D("a")}`)]);
  assert.deepEqual(staging.edits.map((e) => [e.file, e.after]), [["apps/staging/podinfo-values.yaml", patch("6.6.0").replace("tag: \"6.6.0\"", `tag: "6.6.0@${D("a")}"`)]]);
  await write(dir, staging);
  await write(dir, await planPin(dir, pipeline, "production", [parsePinArgument(`${podinfo}@${D("b")}`)]));
  assert.deepEqual(await runs(dir, "staging"), [`${podinfo}:6.6.0@${D("a")}`]);
  assert.deepEqual(await runs(dir, "production"), [`${podinfo}:6.5.0@${D("b")}`]);
  assert.deepEqual((await validateRepo(dir)).errors.map((e) => e.oneLine()), []);
  await git(dir, "init", "-q");
  await git(dir, "add", "-A");
  await git(dir, "-c", "user.name=Dev", "-c", "user.email=dev@example.com", "commit", "-qm", "pin podinfo");

  const promotion = await planPromotion(dir, pipeline, "staging", "production");
  assert.deepEqual(promotion.changes.map((c) => [c.repository, c.from.digest, c.to.digest, c.sites]), [[podinfo, D("b"), D("a"), [{ file: "apps/production/podinfo-values.yaml", line: 9 }]]]);
  assert.deepEqual(promotion.edits.map((e) => e.after), [patch("6.5.0").replace("tag: \"6.5.0\"", `tag: "6.6.0@${D("a")}"`)]);
  await write(dir, promotion);
  await git(dir, "-c", "user.name=Dev", "-c", "user.email=dev@example.com", "commit", "-qam", "Promote staging to production");
  assert.equal(await fs.readFile(path.join(dir, "apps/base/podinfo/release.yaml"), "utf8"), release, "the shared base is never edited");
  const production = (await status(dir)).environments.find((e) => e.name === "production");
  assert.deepEqual(production?.images, [{ repository: podinfo, digest: D("a"), tag: "6.6.0", rejected: false }]);
  assert.deepEqual((await history(dir, "production"))[0]?.changes, [{ repository: podinfo, from: D("b"), to: D("a") }]);
});
