// The agent's git fetch against servers that misbehave: 500s, garbage, a drip, an oversized pack, a
// cancelled fetch. Each ends in a GIT_FAILED error within its limits, and the last checkout stays as it was.
import { test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { promises as fs } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { remoteHead } from "../../src/git/fetch.js";
import { GitSources } from "../../src/git/sources.js";
import { ConfigRepo } from "../support/config-repo.js";
import { GitServer } from "../support/git-server.js";

async function badServer(handler: http.RequestListener): Promise<{ url: string; close(): Promise<void> }> {
  const s = http.createServer(handler);
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(s.address() as AddressInfo).port}/config.git`,
    close: () => new Promise((r) => {
      s.closeAllConnections();
      s.close(() => r());
    }),
  };
}

/** The loopback servers speak plain http (the agent allows it only with --allow-insecure-http). */
const insecure = { allowInsecureHttp: true };

const gitFailed = (pattern: RegExp) => (e: Error & { code?: string }) => {
  assert.equal(e.code, "GIT_FAILED");
  assert.match(e.message, pattern);
  return true;
};

test("500s and garbage are GIT_FAILED errors", async () => {
  const errors = await badServer((_req, res) => res.writeHead(500).end("internal error"));
  const garbage = await badServer((_req, res) => res.writeHead(200, { "Content-Type": "application/x-git-upload-pack-advertisement" }).end(randomBytes(4096)));
  try {
    await assert.rejects(remoteHead(errors.url, "main", undefined, insecure), gitFailed(/500/));
    await assert.rejects(remoteHead(garbage.url, "main", undefined, insecure), gitFailed(/failed/));
  } finally {
    await errors.close();
    await garbage.close();
  }
});

test("a server that drips one byte at a time is cut off at the deadline", async () => {
  let open = 0;
  const drip = await badServer((_req, res) => {
    open++;
    res.writeHead(200, { "Content-Type": "application/x-git-upload-pack-advertisement" });
    const timer = setInterval(() => res.write("0"), 100);
    res.on("close", () => {
      clearInterval(timer);
      open--;
    });
  });
  try {
    await assert.rejects(remoteHead(drip.url, "main", undefined, { ...insecure, timeoutMs: 800 }), gitFailed(/no complete answer within 0.8 s/));
    for (let i = 0; i < 200 && open > 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(open, 0, "the connection was closed, not left dripping");
  } finally {
    await drip.close();
  }
});

test("an oversized pack is refused and the last checkout stays; a cancelled fetch fails at once", async () => {
  const server = await GitServer.create();
  const repo = await ConfigRepo.create(server, "config", { "env/a.yaml": "a: 1\n" });
  const cacheDir = await fs.mkdtemp(path.join(os.tmpdir(), "baton-git-faults-"));
  const sources = new GitSources(cacheDir, { concurrency: 2 });
  const ref = { url: repo.url, branch: "main" };
  try {
    const first = await sources.checkout(ref, { ...insecure, maxBytes: 32 * 1024 });
    // Random bytes do not compress: the pack of this commit is about 85 KiB.
    await repo.commit({ "env/blob.txt": randomBytes(64 * 1024).toString("base64") }, "a large file");
    await assert.rejects(sources.checkout(ref, { ...insecure, maxBytes: 32 * 1024 }), gitFailed(/sent more than 32 KiB/));
    await assert.rejects(sources.checkout(ref, { ...insecure, signal: AbortSignal.abort() }), gitFailed(/cancelled/));
    assert.equal(await fs.readFile(path.join(first.dir, "env/a.yaml"), "utf8"), "a: 1\n");
    await assert.rejects(fs.stat(path.join(first.dir, "env/blob.txt")), "the large file never reached the checkout");
    assert.deepEqual((await fs.readdir(path.dirname(first.dir))).filter((n) => !n.startsWith(".")), [first.revision], "no other checkout was written");
    const second = await sources.checkout(ref, { ...insecure, maxBytes: 1024 * 1024 });
    assert.notEqual(second.revision, first.revision, "with a larger cap the same fetch succeeds");
  } finally {
    await server.destroy();
    await repo.destroy();
    await fs.rm(cacheDir, { recursive: true, force: true });
  }
});

test("after the git server restarts, a request on a kept-alive connection from before is sent again on a new one", async () => {
  const server = await GitServer.create();
  const repo = await ConfigRepo.create(server, "config", { "env/a.yaml": "a: 1\n" });
  const cacheDir = await fs.mkdtemp(path.join(os.tmpdir(), "baton-git-faults-"));
  const sources = new GitSources(cacheDir, { concurrency: 2 });
  const ref = { url: repo.url, branch: "main" };
  try {
    const head = await remoteHead(repo.url, "main", undefined, insecure);
    server.restart();
    assert.equal(await remoteHead(repo.url, "main", undefined, insecure), head, "the head check succeeds at the first attempt of the agent");
    assert.equal(server.resets, 1, "its request did meet the connection from before the restart");
    await sources.checkout(ref, insecure);
    server.restart();
    const pushed = await repo.commit({ "env/a.yaml": "a: 2\n" }, "after the restart");
    const checkout = await sources.checkout(ref, insecure);
    assert.equal(checkout.revision, pushed);
    assert.equal(await fs.readFile(path.join(checkout.dir, "env/a.yaml"), "utf8"), "a: 2\n");
    assert.ok(server.resets >= 2, `the checkout did meet a connection from before the restart (${server.resets} resets)`);
  } finally {
    await server.destroy();
    await repo.destroy();
    await fs.rm(cacheDir, { recursive: true, force: true });
  }
});
