// Shared fetches against a real git server (git http-backend): N Environments of one repository and
// branch cost one head check, one fetch and one checkout per revision; credentials separate sources;
// network operations stay within the bound; old checkouts go once nobody reads them.
import { test } from "node:test";
import assert from "node:assert/strict";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { commitMessage } from "../../src/git/fetch.js";
import { GitSources } from "../../src/git/sources.js";
import { ConfigRepo } from "../support/config-repo.js";
import { GitServer } from "../support/git-server.js";

const insecure = { allowInsecureHttp: true };

async function setup(t: { after(fn: () => Promise<void>): void }, repos = ["config"]) {
  const server = await GitServer.create();
  const made = await Promise.all(repos.map((r) => ConfigRepo.create(server, r, { "env/a.yaml": "a: 1\n" })));
  const cacheDir = await fs.mkdtemp(path.join(os.tmpdir(), "baton-sources-"));
  t.after(async () => {
    await server.destroy();
    for (const r of made) await r.destroy();
    await fs.rm(cacheDir, { recursive: true, force: true });
  });
  return { server, repos: made, cacheDir };
}

/** Pack downloads (fetches) and ref listings (ls-remote, protocol v2) the server answered. */
const uploadPacks = (server: GitServer) => server.requests.filter((r) => r.startsWith("POST") && r.endsWith("git-upload-pack")).length;
const lsRemotes = (server: GitServer) => server.requests.filter((r) => r.startsWith("POST") && r.endsWith("git-upload-pack v2")).length;

test("ten concurrent checkouts of one source cost one head check and one fetch, and share one directory", async (t) => {
  const { server, repos: [repo], cacheDir } = await setup(t);
  const operations: string[] = [];
  const sources = new GitSources(cacheDir, { concurrency: 4, onOperation: (op) => operations.push(op) });
  const ref = { url: repo!.url, branch: "main" };
  const checkouts = await Promise.all(Array.from({ length: 10 }, () => sources.checkout(ref, { ...insecure, maxAgeMs: 60_000 })));
  assert.deepEqual(operations, ["ls-remote", "fetch"]);
  assert.equal(lsRemotes(server), 1, "one head check for ten Environments");
  assert.equal(uploadPacks(server), 1, "one pack download for ten Environments");
  assert.equal(new Set(checkouts.map((c) => c.dir)).size, 1);
  assert.equal(checkouts.filter((c) => c.fetched).length, 1);
  const dir = checkouts[0]!.dir;
  assert.equal(await fs.readFile(path.join(dir, "env/a.yaml"), "utf8"), "a: 1\n");
  assert.match(await commitMessage(dir, checkouts[0]!.revision), /initial config/, "the commit is readable through the checkout");
  // Within the freshness window a further reconcile asks the server nothing.
  const requests = server.requests.length;
  const again = await sources.checkout(ref, { ...insecure, maxAgeMs: 60_000 });
  assert.equal(again.dir, dir);
  assert.equal(server.requests.length, requests);
});

test("a new commit is fetched once, announced once, and lands in a new directory beside the old one", async (t) => {
  const { server, repos: [repo], cacheDir } = await setup(t);
  const announced: string[] = [];
  const sources = new GitSources(cacheDir, { concurrency: 4, onNewRevision: (_s, oid) => announced.push(oid) });
  const ref = { url: repo!.url, branch: "main" };
  const first = await sources.checkout(ref, insecure);
  const second = await repo!.commit({ "env/a.yaml": "a: 2\n" }, "second");
  const stale = await sources.checkout(ref, { ...insecure, maxAgeMs: 60_000 });
  assert.equal(stale.revision, first.revision, "a fresh-enough head is reused without asking");
  const packs = uploadPacks(server);
  const fresh = await Promise.all(Array.from({ length: 5 }, () => sources.checkout(ref, insecure)));
  assert.deepEqual([...new Set(fresh.map((c) => c.revision))], [second]);
  assert.equal(uploadPacks(server) - packs, 1);
  assert.deepEqual(announced, [second]);
  assert.equal(await fs.readFile(path.join(fresh[0]!.dir, "env/a.yaml"), "utf8"), "a: 2\n");
  assert.equal(await fs.readFile(path.join(first.dir, "env/a.yaml"), "utf8"), "a: 1\n", "the older checkout is untouched");
});

test("different credentials are different sources: one Environment never reads through another's token", async (t) => {
  const { server, repos: [repo], cacheDir } = await setup(t);
  const sources = new GitSources(cacheDir, { concurrency: 4 });
  const a = await sources.checkout({ url: repo!.url, branch: "main" }, insecure);
  const b = await sources.checkout({ url: repo!.url, branch: "main", auth: { token: "team-b" } }, insecure);
  assert.notEqual(a.dir, b.dir);
  assert.equal(uploadPacks(server), 2);
  assert.doesNotMatch(b.dir, /team-b/, "the path names a hash, not the token");
});

test("git operations across sources stay within the concurrency bound", async (t) => {
  const names = ["r1", "r2", "r3", "r4"];
  const { server, repos, cacheDir } = await setup(t, names);
  const sources = new GitSources(cacheDir, { concurrency: 2 });
  server.peakInFlight = 0;
  await Promise.all(repos.map((r) => sources.checkout({ url: r.url, branch: "main" }, insecure)));
  assert.equal(uploadPacks(server), names.length);
  assert.ok(server.peakInFlight <= 2, `at most 2 requests at once, saw ${server.peakInFlight}`);
  assert.ok(lsRemotes(server) >= names.length);
});

test("old checkouts are removed once newer ones replace them and nobody reads them", async (t) => {
  const { repos: [repo], cacheDir } = await setup(t);
  const sources = new GitSources(cacheDir, { concurrency: 2, keepRevisions: 1 });
  const ref = { url: repo!.url, branch: "main" };
  const first = await sources.checkout(ref, insecure);
  await repo!.commit({ "env/a.yaml": "a: 2\n" }, "second");
  const second = await sources.checkout(ref, insecure);
  second.release();
  assert.equal(await fs.readFile(path.join(first.dir, "env/a.yaml"), "utf8"), "a: 1\n", "still read by its reconcile: kept");
  first.release();
  await repo!.commit({ "env/a.yaml": "a: 3\n" }, "third");
  const third = await sources.checkout(ref, insecure);
  await assert.rejects(fs.stat(first.dir), "released and two revisions old: removed");
  await assert.rejects(fs.stat(second.dir), "released and replaced: removed");
  assert.equal(await fs.readFile(path.join(third.dir, "env/a.yaml"), "utf8"), "a: 3\n");
});
