// Rendering never touches the network. Every remote-reference case of the bad-input corpus is pointed at
// a real HTTP server that counts requests: Baton's tree check refuses each one before kustomize runs, and
// kustomize itself, run the way Baton runs it, cannot reach the server either (the second wall).
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promises as fs } from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { BatonError } from "../../src/errors.js";
import { kustomizeBuild } from "../../src/config/kustomize.js";
import { findEnvironment, loadPipeline } from "../../src/config/pipeline.js";
import { renderEnvironment } from "../../src/config/render.js";

const corpus = path.resolve(import.meta.dirname, "../fixtures/bad");
const PLACEHOLDER = "https://example.invalid";

let requests: string[] = [];
const server = http.createServer((req, res) => {
  requests.push(`${req.method} ${req.url}`);
  res.writeHead(404).end();
});
await new Promise<void>((resolve) => server.listen(0, "0.0.0.0", resolve));
const port = (server.address() as { port: number }).port;
after(() => server.close());

/** An address of this machine that is not loopback: Go's HTTP client would use a proxy for it. */
const outsideAddress = Object.values(os.networkInterfaces()).flat().find((i) => i && i.family === "IPv4" && !i.internal)?.address;

const cases: Array<{ name: string; expect: string }> = [];
for (const name of (await fs.readdir(corpus)).sort()) {
  if (!name.startsWith("kustomize-")) continue;
  const { stdout } = await promisify(execFile)("grep", ["-rl", PLACEHOLDER, path.join(corpus, name)]).catch(() => ({ stdout: "" }));
  if (stdout.trim()) cases.push({ name, expect: (await fs.readFile(path.join(corpus, name, "expect"), "utf8")).trim() });
}

/** A copy of a corpus case whose remote references point at `base`. */
async function copyCase(name: string, base: string): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), `baton-offline-${name}-`));
  await fs.cp(path.join(corpus, name), dir, { recursive: true, verbatimSymlinks: true });
  const { stdout } = await promisify(execFile)("grep", ["-rl", PLACEHOLDER, dir]);
  for (const file of stdout.trim().split("\n")) await fs.writeFile(file, (await fs.readFile(file, "utf8")).replaceAll(PLACEHOLDER, base));
  return dir;
}

test("the corpus has a remote-reference case for every kustomize field that can fetch", () => {
  assert.ok(cases.length >= 20, `only ${cases.length} cases`);
});

test("rendering refuses every remote reference with its code, and the server sees 0 requests", async () => {
  requests = [];
  for (const c of cases) {
    const repo = await copyCase(c.name, `http://127.0.0.1:${port}`);
    const pipeline = await loadPipeline(repo);
    await assert.rejects(renderEnvironment(repo, findEnvironment(pipeline, "testing")), (e: unknown) => {
      assert.ok(e instanceof BatonError, `${c.name}: ${String(e)}`);
      assert.equal(e.code, c.expect, `${c.name}: ${e.oneLine()}`);
      assert.ok(e.file && e.field, `${c.name}: the error names the file and field: ${e.oneLine()}`);
      return true;
    });
    await fs.rm(repo, { recursive: true, force: true });
  }
  assert.deepEqual(requests, []);
});

test("second wall: kustomize run as Baton runs it fetches nothing even without the tree check", { skip: outsideAddress ? false : "no non-loopback IPv4 address on this machine" }, async () => {
  // Control first, so this test can fail: plain `kustomize build` does fetch these fields.
  const fetchedByPlainKustomize: string[] = [];
  const wallRequests: string[] = [];
  for (const c of cases) {
    const repo = await copyCase(c.name, `http://${outsideAddress}:${port}`);
    const dir = path.join(repo, "environments/testing");
    requests = [];
    await promisify(execFile)("kustomize", ["build", dir]).catch(() => undefined);
    if (requests.length > 0) fetchedByPlainKustomize.push(c.name);
    requests = [];
    await kustomizeBuild(repo, dir).catch(() => undefined);
    wallRequests.push(...requests.map((r) => `${c.name}: ${r}`));
    await fs.rm(repo, { recursive: true, force: true });
  }
  process.stderr.write(`plain kustomize fetched for: ${fetchedByPlainKustomize.join(", ")}\n`);
  // Helm needs --enable-helm, which nobody passes here; every other field is fetched by plain kustomize.
  for (const c of cases.filter((x) => !x.name.includes("helm"))) {
    assert.ok(fetchedByPlainKustomize.includes(c.name), `plain kustomize fetched for ${c.name} (control)`);
  }
  assert.deepEqual(wallRequests, []);
});

test("second wall: a remote git base cannot be cloned (no git on kustomize's PATH)", async () => {
  const repo = await fs.mkdtemp(path.join(os.tmpdir(), "baton-offline-git-"));
  await fs.writeFile(path.join(repo, "kustomization.yaml"), `resources:\n  - git::http://127.0.0.1:${port}/acme/base.git//deploy?ref=main\n`);
  requests = [];
  await assert.rejects(kustomizeBuild(repo, repo), (e: unknown) => e instanceof BatonError && e.code === "KUSTOMIZE_FAILED");
  assert.deepEqual(requests, []);
  // Control: with git on PATH, kustomize does reach the server.
  await promisify(execFile)("kustomize", ["build", repo]).catch(() => undefined);
  assert.ok(requests.length > 0, "plain kustomize with git on PATH contacted the server");
});
