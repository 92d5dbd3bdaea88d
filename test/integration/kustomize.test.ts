// For every kustomize example, Baton's object list equals the real `kustomize build` output, parsed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { parseAllDocuments } from "yaml";
import { findEnvironment, loadPipeline } from "../../src/config/pipeline.js";
import { renderEnvironment } from "../../src/config/render.js";
import { planPromotion } from "../../src/config/repo.js";
import { BatonError } from "../../src/errors.js";
import { history } from "../../src/promote/history.js";
import { rollback } from "../../src/promote/rollback.js";

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

test("history and rollback of a kustomize environment read what it renders: a digest changed in a base shows, and is not reverted for one environment", async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "baton-khistory-"));
  await fs.cp(repo, dir, { recursive: true });
  const git = (...args: string[]) => promisify(execFile)("git", ["-C", dir, ...args]).then((r) => r.stdout.trim());
  const commit = async (message: string) => {
    await git("add", "-A");
    await git("-c", "user.name=Ann", "-c", "user.email=ann@example.com", "commit", "--quiet", "-m", message);
    return git("rev-parse", "HEAD");
  };
  const edit = async (file: string, from: string | RegExp, to: string) => {
    const text = await fs.readFile(path.join(dir, file), "utf8");
    assert.notEqual(text.replace(from, to), text, `${file} has ${String(from)}`);
    await fs.writeFile(path.join(dir, file), text.replace(from, to));
  };
  const proxy = (d: string) => `ghcr.io/acme/proxy@sha256:${d.repeat(64)}`;
  await git("init", "--quiet", "--initial-branch=main");
  const created = await commit("Kustomize example");
  // The sidecar's digest lives in the shared base: no file under environments/staging changes.
  await edit("base/deployment.yaml", /(\n {8}- name: web\n)/, `\n        - name: proxy\n          image: ${proxy("1")}$1`);
  const sidecar = await commit("Add the proxy sidecar to the base");
  await edit("base/deployment.yaml", proxy("1"), proxy("2"));
  const bump = await commit("Bump the proxy in the base");
  await edit("environments/production/kustomization.yaml", "count: 4", "count: 5");
  await commit("More production replicas");
  const staging = `sha256:${"3".repeat(64)}`;
  await edit("environments/staging/kustomization.yaml", /digest: sha256:[0-9a-f]{64}/, `digest: ${staging}`);
  const overlay = await commit("New web in staging");

  const rows = await history(dir, "staging");
  assert.deepEqual(rows.map((r) => r.commit), [overlay, bump, sidecar, created]);
  assert.deepEqual(rows[1]?.changes, [{ repository: "ghcr.io/acme/proxy", from: `sha256:${"1".repeat(64)}`, to: `sha256:${"2".repeat(64)}` }]);
  assert.deepEqual(rows[2]?.changes, [{ repository: "ghcr.io/acme/proxy", to: `sha256:${"1".repeat(64)}` }]);
  assert.deepEqual(rows[0]?.digests.map((d) => `${d.repository}@${d.digest}`), [proxy("2"), `ghcr.io/acme/web@${staging}`]);
  // Production's history has the base changes too, and its own replica change is not a digest change.
  assert.deepEqual((await history(dir, "production")).map((r) => r.commit), [bump, sidecar, created]);

  // The newest change is staging's own: a rollback may revert it. The base change under it would roll
  // production back too, so rollback refuses it and says what to do instead.
  assert.deepEqual((await rollback({ repo: dir, env: "staging", dryRun: true })).reverted.map((r) => r.sha), [overlay]);
  await assert.rejects(rollback({ repo: dir, env: "staging", dryRun: true, steps: 2 }), (e: unknown) => {
    assert.ok(e instanceof BatonError && e.code === "ROLLBACK_SHARED_CHANGE", String(e));
    assert.match(e.message, new RegExp(`^${bump.slice(0, 7)} "Bump the proxy in the base" changed staging's digests from outside environments/staging/ \\(base/deployment.yaml\\)`));
    assert.match(e.hint ?? "", /pin the previous digest in environments\/staging\//);
    return true;
  });
  await fs.rm(dir, { recursive: true, force: true });
});
