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

const fixtures = path.resolve(import.meta.dirname, "../fixtures");
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
