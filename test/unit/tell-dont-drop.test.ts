// Tell, don't drop: one image however it is spelled, images a promotion cannot carry are reported, files
// rendering skips and images outside container lists are listed by validate.
import { test } from "node:test";
import assert from "node:assert/strict";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { canonicalRepository } from "../../src/config/image-ref.js";
import { loadPipeline } from "../../src/config/pipeline.js";
import { planPromotion, validateRepo } from "../../src/config/repo.js";
import { pullBody } from "../../src/promote/pr-body.js";

const d = (c: string) => `sha256:${c.repeat(64)}`;
const deployment = (name: string, images: string[]) => [
  "apiVersion: apps/v1", "kind: Deployment", `metadata: {name: ${name}}`, "spec:", `  selector: {matchLabels: {app: ${name}}}`, "  template:",
  `    metadata: {labels: {app: ${name}}}`, "    spec:", "      containers:", ...images.map((image, i) => `        - {name: c${i}, image: ${image}}`), "",
].join("\n");

async function repo(files: Record<string, string>): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "baton-tell-"));
  const all = {
    "baton.yaml": "apiVersion: baton.dev/v1alpha1\nkind: Pipeline\nenvironments:\n  - {name: staging, path: environments/staging, namespace: app}\n  - {name: production, path: environments/production, promoteFrom: staging, namespace: app}\n",
    ...files,
  };
  for (const [file, text] of Object.entries(all)) {
    await fs.mkdir(path.dirname(path.join(dir, file)), { recursive: true });
    await fs.writeFile(path.join(dir, file), text);
  }
  return dir;
}

test("Docker Hub spellings of one repository have one identity", () => {
  for (const s of ["nginx", "library/nginx", "docker.io/nginx", "docker.io/library/nginx", "index.docker.io/library/nginx"]) assert.equal(canonicalRepository(s), "docker.io/library/nginx", s);
  assert.equal(canonicalRepository("acme/web"), "docker.io/acme/web");
  assert.equal(canonicalRepository("ghcr.io/acme/web"), "ghcr.io/acme/web");
  assert.equal(canonicalRepository("localhost/web"), "localhost/web");
  assert.equal(canonicalRepository("registry:5000/web"), "registry:5000/web");
});

test("two spellings of one image in an environment are one pin, or a conflict when their digests differ", async () => {
  const same = await repo({
    "environments/staging/a.yaml": deployment("a", [`nginx@${d("a")}`]),
    "environments/staging/b.yaml": deployment("b", [`docker.io/library/nginx@${d("a")}`]),
    "environments/production/a.yaml": deployment("a", [`nginx@${d("a")}`]),
  });
  const ok = await validateRepo(same);
  assert.deepEqual(ok.errors.map((e) => e.oneLine()), []);
  assert.equal(ok.environments.find((e) => e.name === "staging")?.pins.length, 1);
  const differ = await repo({
    "environments/staging/a.yaml": deployment("a", [`nginx@${d("a")}`]),
    "environments/staging/b.yaml": deployment("b", [`docker.io/library/nginx@${d("b")}`]),
    "environments/production/a.yaml": deployment("a", [`nginx@${d("a")}`]),
  });
  const bad = await validateRepo(differ);
  assert.equal(bad.errors[0]?.code, "PIN_CONFLICT");
  assert.match(bad.errors[0]?.message ?? "", /docker\.io\/library\/nginx \(also written nginx\)/);
});

test("a promotion moves an image across spellings, keeps the target's spelling, and reports what it cannot carry", async () => {
  const dir = await repo({
    "environments/staging/app.yaml": deployment("app", [`nginx@${d("a")}`, `ghcr.io/acme/worker@${d("c")}`]),
    "environments/production/app.yaml": deployment("app", [`docker.io/library/nginx@${d("b")}`]),
  });
  const plan = await planPromotion(dir, await loadPipeline(dir), "staging", "production");
  assert.equal(plan.edits.length, 1);
  assert.match(plan.edits[0]?.after ?? "", new RegExp(`image: docker\\.io/library/nginx@${d("a")}`));
  assert.deepEqual(plan.onlyInSource, ["ghcr.io/acme/worker"]);
  const body = pullBody({ kind: "promotion", from: "staging", to: "production", changes: plan.changes, diff: "", onlyInSource: plan.onlyInSource });
  assert.match(body, /Not promoted \(production does not use them.*`ghcr\.io\/acme\/worker`/);
});

test("validate lists files rendering skips and images outside container lists", async () => {
  const dir = await repo({
    "environments/staging/app.yaml": deployment("app", [`nginx@${d("a")}`]),
    "environments/staging/extra.json": "{\"apiVersion\": \"v1\"}\n",
    "environments/staging/notes/README.md": "# notes\n",
    "environments/staging/.hidden.yaml": "apiVersion: v1\n",
    "environments/staging/task.yaml": "apiVersion: tekton.dev/v1\nkind: Task\nmetadata: {name: build}\nspec:\n  steps:\n    - {name: compile, image: golang:1.22}\n",
    "environments/staging/db.yaml": "apiVersion: acid.zalan.do/v1\nkind: Database\nmetadata: {name: db}\nspec: {image: postgres:16}\n",
    "environments/production/app.yaml": deployment("app", [`nginx@${d("a")}`]),
  });
  const report = await validateRepo(dir);
  assert.deepEqual(report.errors.map((e) => e.oneLine()), []);
  const staging = report.environments.find((e) => e.name === "staging");
  assert.deepEqual(staging?.ignored, ["environments/staging/.hidden.yaml", "environments/staging/extra.json", "environments/staging/notes/README.md"]);
  assert.deepEqual(staging?.unmanagedImages.map((u) => `${u.object} ${u.field}=${u.image}`).sort(), [
    "acid.zalan.do/v1 Database app/db spec.image=postgres:16",
    "tekton.dev/v1 Task app/build spec.steps[0].image=golang:1.22",
  ]);
});
