// `baton init --resolve --write` writes everything or nothing: every pin it cannot place is reported at once.
import { test } from "node:test";
import assert from "node:assert/strict";
import { promises as fs } from "node:fs";
import path from "node:path";
import { proposePipeline } from "../../src/config/init.js";
import { writeInit, type ResolvedImage } from "../../src/config/init-resolve.js";
import { BatonError, BatonErrors } from "../../src/errors.js";
import { writeTree } from "../support/file-tree.js";

const deployment = (name: string, image: string) => `apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: ${name}}\nspec:\n  template:\n    spec:\n      containers: [{name: ${name}, image: "${image}"}]\n`;

const repo = (files: Record<string, string>, links: Record<string, string>): Promise<string> => writeTree("baton-init-write-", files, links);

/** Every file's text (symlinks as `-> target`): what "nothing written" compares. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of await fs.readdir(dir, { recursive: true, withFileTypes: true })) {
    const full = path.join(entry.parentPath, entry.name);
    const rel = path.relative(dir, full);
    if (entry.isSymbolicLink()) out[rel] = `-> ${await fs.readlink(full)}`;
    else if (entry.isFile()) out[rel] = await fs.readFile(full, "utf8");
    else out[rel] = "(folder)";
  }
  return out;
}

test("init --resolve --write: pins it cannot place are all reported in one error and nothing is written", async () => {
  // dev has its own files; qa's and prod's workloads are symlinks to a shared base, which pin never edits.
  const settings = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {}\n";
  const dir = await repo(
    { "envs/dev/web.yaml": deployment("web", "ghcr.io/acme/web:1.1.0"), "envs/dev/api.yaml": deployment("api", "ghcr.io/acme/api:2.0.0"), "base/web.yaml": deployment("web", "ghcr.io/acme/web:1.0.0"), "base/api.yaml": deployment("api", "ghcr.io/acme/api:2.0.0"),
      "envs/qa/settings.yaml": settings, "envs/prod/settings.yaml": settings },
    { "envs/qa/web.yaml": "../../base/web.yaml", "envs/prod/web.yaml": "../../base/web.yaml", "envs/prod/api.yaml": "../../base/api.yaml" },
  );
  const proposal = await proposePipeline(dir);
  assert.deepEqual(proposal.environments.map((e) => e.name).sort(), ["dev", "prod", "qa"]);
  // What the registries would answer (resolveTagged is tested against a real registry in bring-your-repo).
  const resolved: ResolvedImage[] = proposal.tagged.map((t, i) => ({ ...t, digest: `sha256:${String(i).repeat(64)}` }));
  const before = await snapshot(dir);

  const refused = await writeInit(dir, proposal, resolved).then(() => undefined, (e: unknown) => e);
  assert.ok(refused instanceof BatonErrors, String(refused));
  const lines = refused.errors.map((e) => `${e.code} ${e.file ?? ""} ${/ghcr\.io\/acme\/(web|api)/.exec(e.message)?.[0] ?? e.message}`).sort();
  assert.deepEqual(lines, [
    "PIN_NOT_FOUND envs/prod ghcr.io/acme/api",
    "PIN_NOT_FOUND envs/prod ghcr.io/acme/web",
    "PIN_NOT_FOUND envs/qa ghcr.io/acme/web",
  ], "every unplaceable pin, one line each, not only the first");
  assert.deepEqual(await snapshot(dir), before, "no baton.yaml, no pin in dev, nothing moved");

  // Without the unplaceable ones, everything is written.
  const placeable = resolved.filter((r) => r.env === "dev");
  const pinned = await writeInit(dir, proposal, placeable);
  assert.deepEqual(pinned, ["envs/dev/api.yaml", "envs/dev/web.yaml"]);
  assert.match(await fs.readFile(path.join(dir, "envs/dev/web.yaml"), "utf8"), /ghcr\.io\/acme\/web:1\.1\.0@sha256:/);
  await assert.rejects(writeInit(dir, proposal, placeable), (e: unknown) => e instanceof BatonError && e.code === "INIT_EXISTS");
});
