// How Baton runs kustomize, with stand-in binaries: a slow build is reported as a timeout, an endless
// output is cut off at the render byte limit, and kustomize sees none of the agent's environment.
import { test } from "node:test";
import assert from "node:assert/strict";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { BatonError } from "../../src/errors.js";
import { kustomizeBuild } from "../../src/config/kustomize.js";
import { DEFAULT_LIMITS } from "../../src/config/limits.js";

async function standIn(script: string): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "baton-fake-kustomize-"));
  const bin = path.join(dir, "kustomize");
  await fs.writeFile(bin, `#!/bin/sh\n${script}\n`, { mode: 0o755 });
  return dir;
}

async function build(script: string, limits = DEFAULT_LIMITS): Promise<string> {
  const dir = await standIn(script);
  process.env.BATON_KUSTOMIZE = path.join(dir, "kustomize");
  try {
    return await kustomizeBuild(dir, dir, limits);
  } finally {
    delete process.env.BATON_KUSTOMIZE;
  }
}

test("a build that does not finish in time is reported as KUSTOMIZE_TIMEOUT", async () => {
  await assert.rejects(build("exec /bin/sleep 30", { ...DEFAULT_LIMITS, kustomizeTimeoutMs: 300 }), (e: unknown) => {
    assert.ok(e instanceof BatonError);
    assert.equal(e.code, "KUSTOMIZE_TIMEOUT");
    assert.match(e.message, /did not finish within/);
    return true;
  });
});

test("output beyond the render byte limit is cut off while reading", async () => {
  await assert.rejects(build("exec /usr/bin/yes 'apiVersion: v1'", { ...DEFAULT_LIMITS, maxRenderBytes: 1024 * 1024 }), (e: unknown) => {
    assert.ok(e instanceof BatonError);
    assert.equal(e.code, "FILE_TOO_LARGE");
    return true;
  });
});

test("kustomize gets no agent secrets, a dead proxy and no PATH", async () => {
  process.env.GITHUB_TOKEN = "ghp_shouldNotLeak";
  try {
    const out = await build("/usr/bin/env");
    assert.doesNotMatch(out, /GITHUB_TOKEN|ghp_/);
    assert.match(out, /^HTTPS_PROXY=http:\/\/127\.0\.0\.1:9$/m);
    assert.match(out, /^PATH=\/nonexistent$/m);
  } finally {
    delete process.env.GITHUB_TOKEN;
  }
});

test("a failing build reports the tail of its stderr", async () => {
  await assert.rejects(build("echo 'Error: accumulating resources: boom' >&2; exit 1"), (e: unknown) => e instanceof BatonError && e.code === "KUSTOMIZE_FAILED" && /boom/.test(e.message));
});
