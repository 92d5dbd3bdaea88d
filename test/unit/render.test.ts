import { test } from "node:test";
import assert from "node:assert/strict";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { renderEnvironment } from "../../src/config/render.js";
import { findEnvironment, loadPipeline } from "../../src/config/pipeline.js";
import { readPins } from "../../src/config/pins.js";
import { planPin, planPromotion, parsePinArgument, validateRepo } from "../../src/config/repo.js";
import { BatonError } from "../../src/errors.js";
import { pin } from "../../src/promote/pin.js";

const repoRoot = path.resolve(import.meta.dirname, "../..");

async function tempRepo(files: Record<string, string>): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "baton-render-"));
  for (const [file, text] of Object.entries(files)) {
    await fs.mkdir(path.dirname(path.join(dir, file)), { recursive: true });
    await fs.writeFile(path.join(dir, file), text);
  }
  return dir;
}

const PIPELINE = "apiVersion: baton.dev/v1alpha1\nkind: Pipeline\nenvironments:\n  - name: dev\n    path: envs/dev\n    namespace: apps\n";

test("plain folders render recursively, multi-document, in path order, with the default namespace", async () => {
  const dir = await tempRepo({
    "baton.yaml": PIPELINE,
    "envs/dev/b.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n---\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: other}\n",
    "envs/dev/a/nested.yml": "apiVersion: v1\nkind: Namespace\nmetadata: {name: apps}\n",
    "envs/dev/notes.txt": "ignored",
  });
  const pipeline = await loadPipeline(dir);
  const rendered = await renderEnvironment(dir, findEnvironment(pipeline, "dev"));
  assert.equal(rendered.mode, "plain");
  assert.deepEqual(rendered.objects.map((o) => `${o.id.kind}/${o.id.namespace ?? "-"}/${o.id.name}`), ["Namespace/-/apps", "ConfigMap/apps/b", "ConfigMap/other/c"]);
  assert.deepEqual(rendered.objects.map((o) => `${o.source.file}:${o.source.line}`), ["envs/dev/a/nested.yml:1", "envs/dev/b.yaml:1", "envs/dev/b.yaml:6"]);
});

test("the example environments pin the same image by digest", async () => {
  const report = await validateRepo(repoRoot);
  assert.deepEqual(report.errors.map((e) => e.oneLine()), []);
  const repos = new Set(report.environments.flatMap((e) => e.pins.map((p) => p.repository)));
  assert.deepEqual([...repos], ["ghcr.io/acme/web"]);
});

test("pins are read from every container list of every workload kind", async () => {
  const D = (c: string) => `sha256:${c.repeat(64)}`;
  const pipeline = await loadPipeline(repoRoot);
  const env = findEnvironment(pipeline, "testing");
  const objects = [
    { apiVersion: "batch/v1", kind: "CronJob", metadata: { name: "c" }, spec: { jobTemplate: { spec: { template: { spec: { containers: [{ name: "x", image: `r/cron@${D("a")}` }] } } } } } },
    { apiVersion: "v1", kind: "Pod", metadata: { name: "p" }, spec: { initContainers: [{ image: `r/init@${D("b")}` }], ephemeralContainers: [{ image: `r/debug@${D("c")}` }], containers: [] } },
    { apiVersion: "apps/v1", kind: "StatefulSet", metadata: { name: "s" }, spec: { template: { spec: { containers: [{ image: `r/db:15@${D("d")}` }] } } } },
  ].map((object) => ({ id: { group: "", version: "v1", kind: object.kind, name: object.metadata.name }, object, source: { file: "f.yaml", line: 1 } }));
  const { pins, problems } = readPins(objects, env);
  assert.deepEqual(problems, []);
  assert.deepEqual([...pins.values()].map((p) => p.repository).sort(), ["r/cron", "r/db", "r/debug", "r/init"]);
  // Keys are the canonical identity (Docker Hub's implicit registry made explicit).
  assert.equal(pins.get("docker.io/r/db")?.tag, "15");
});

test("planPromotion copies the source digest into the target and nothing else", async () => {
  const pipeline = await loadPipeline(repoRoot);
  const plan = await planPromotion(repoRoot, pipeline, "testing", "staging");
  assert.equal(plan.noop, false);
  assert.deepEqual(plan.edits.map((e) => e.file), ["environments/staging/web.yaml"]);
  const edit = plan.edits[0];
  assert.ok(edit);
  const changed = edit.before.split("\n").filter((line, i) => line !== edit.after.split("\n")[i]);
  assert.equal(changed.length, 1);
  assert.match(changed[0] ?? "", /image: ghcr\.io\/acme\/web:1\.4\.0@sha256:4c58c90/);
  assert.match(edit.after, /image: ghcr\.io\/acme\/web:1\.5\.0@sha256:951e43d/);
  const noop = await planPromotion(repoRoot, pipeline, "staging", "production");
  assert.equal(noop.noop, true);
  assert.deepEqual(noop.unchanged, ["ghcr.io/acme/web"]);
});

test("planPin validates its argument and refuses images the environment does not run", async () => {
  const pipeline = await loadPipeline(repoRoot);
  assert.throws(() => parsePinArgument("web=ghcr.io/acme/web:1.6.0"), (e: Error & { code?: string }) => e.code === "PIN_NO_DIGEST");
  const pin = parsePinArgument(`web=ghcr.io/acme/web@sha256:${"c".repeat(64)}`);
  const plan = await planPin(repoRoot, pipeline, "testing", [pin]);
  assert.equal(plan.changes.length, 1);
  assert.match(plan.edits[0]?.after ?? "", new RegExp(`image: ghcr.io/acme/web@sha256:${"c".repeat(64)}\n`));
  await assert.rejects(planPin(repoRoot, pipeline, "testing", [parsePinArgument(`ghcr.io/acme/api@sha256:${"c".repeat(64)}`)]), (e: Error & { code?: string }) => e.code === "PIN_NOT_FOUND");
});

test("render leaves cluster-scoped objects without a namespace: built-in kinds and kinds whose CRD is in the same render", async () => {
  const dir = await tempRepo({
    "baton.yaml": PIPELINE,
    "envs/dev/crd.yaml": "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: widgets.acme.io}\nspec:\n  group: acme.io\n  names: {kind: Widget, plural: widgets}\n  scope: Cluster\n  versions: [{name: v1, served: true, storage: true}]\n---\napiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: gadgets.acme.io}\nspec:\n  group: acme.io\n  names: {kind: Gadget, plural: gadgets}\n  scope: Namespaced\n  versions: [{name: v1, served: true, storage: true}]\n",
    "envs/dev/objects.yaml": "apiVersion: acme.io/v1\nkind: Widget\nmetadata: {name: w}\n---\napiVersion: acme.io/v1\nkind: Gadget\nmetadata: {name: g}\n---\napiVersion: storage.k8s.io/v1\nkind: VolumeAttributesClass\nmetadata: {name: fast}\ndriverName: csi.acme.io\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n",
  });
  const rendered = await renderEnvironment(dir, findEnvironment(await loadPipeline(dir), "dev"));
  assert.deepEqual(rendered.objects.map((o) => `${o.id.kind}/${o.id.namespace ?? "-"}`), [
    "CustomResourceDefinition/-", "CustomResourceDefinition/-", "Widget/-", "Gadget/apps", "VolumeAttributesClass/-", "ConfigMap/apps",
  ]);
});

test("pin --dry-run without --commit or --pr shows what the environment allows instead of complaining about --commit", async () => {
  const image = (d: string) => `apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  template:\n    spec:\n      containers: [{name: web, image: "ghcr.io/acme/web@sha256:${d.repeat(64)}"}]\n`;
  const dir = await tempRepo({
    "baton.yaml": "apiVersion: baton.dev/v1alpha1\nkind: Pipeline\nenvironments:\n  - {name: dev, path: envs/dev}\n  - {name: prod, path: envs/prod, promoteFrom: dev}\n",
    "envs/dev/web.yaml": image("a"),
    "envs/prod/web.yaml": image("a"),
  });
  const images = [`web=ghcr.io/acme/web@sha256:${"b".repeat(64)}`];
  const prod = await pin({ repo: dir, env: "prod", images, dryRun: true });
  assert.equal(prod.action, "dry-run");
  assert.equal(prod.branch, "baton/pin/prod/bbbbbbb", "prod takes pull requests: the dry run shows the PR branch");
  assert.match(prod.diff, /\+ {6}containers: \[\{name: web, image: "ghcr\.io\/acme\/web@sha256:b{64}"\}\]/);
  const dev = await pin({ repo: dir, env: "dev", images, dryRun: true });
  assert.equal(dev.branch, undefined, "the first environment takes direct pushes");
  await assert.rejects(pin({ repo: dir, env: "prod", images, mode: "commit", dryRun: true }), (e: unknown) => e instanceof BatonError && e.code === "PROMOTE_DIRECT_PUSH");
  await assert.rejects(pin({ repo: dir, env: "prod", images }), (e: unknown) => e instanceof BatonError && e.code === "USAGE");
});
