// Shared fetches against a real git server (git http-backend): N Environments of one repository and
// branch cost one head check, one fetch and one checkout per revision; credentials separate sources;
// network operations stay within the bound; old checkouts go once nobody reads them.
// One server and one repository for the file (creating them is the slow part); each test has its own cache.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { commitMessage } from "../../src/git/fetch.js";
import { GitSources, packsIn } from "../../src/git/sources.js";
import { ConfigRepo } from "../support/config-repo.js";
import { GitServer } from "../support/git-server.js";

const insecure = { allowInsecureHttp: true };
let server: GitServer;
let repo: ConfigRepo;
const caches: string[] = [];
before(async () => {
  server = await GitServer.create();
  repo = await ConfigRepo.create(server, "config", { "env/a.yaml": "a: 1\n" });
});
after(async () => {
  await server.destroy();
  await repo.destroy();
  for (const dir of caches) await fs.rm(dir, { recursive: true, force: true });
});

async function freshCache(): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "baton-sources-"));
  caches.push(dir);
  server.requests.length = 0;
  server.requestTimes.length = 0;
  return dir;
}

/** Pack downloads (fetches) and ref listings (ls-remote, protocol v2) the server answered. */
const uploadPacks = () => server.requests.filter((r) => r.startsWith("POST") && r.endsWith("git-upload-pack")).length;
const lsRemotes = () => server.requests.filter((r) => r.startsWith("POST") && r.endsWith("git-upload-pack v2")).length;

test("ten concurrent checkouts of one source cost one head check and one fetch, and share one directory", async () => {
  const operations: string[] = [];
  const sources = new GitSources(await freshCache(), { concurrency: 4, onOperation: (op) => operations.push(op) });
  const ref = { url: repo.url, branch: "main" };
  const checkouts = await Promise.all(Array.from({ length: 10 }, () => sources.checkout(ref, { ...insecure, maxAgeMs: 60_000 })));
  assert.deepEqual(operations, ["ls-remote", "fetch"]);
  assert.equal(lsRemotes(), 1, "one head check for ten Environments");
  assert.equal(uploadPacks(), 1, "one pack download for ten Environments");
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

test("different credentials are different sources, and git operations across sources stay within the bound", async () => {
  const sources = new GitSources(await freshCache(), { concurrency: 2 });
  // Four tokens: four sources of one repository (the test server ignores them). An Environment never
  // reads a repository through another Environment's token.
  const tokens = ["team-a", "team-b", "team-c", "team-d"];
  server.peakInFlight = 0;
  const checkouts = await Promise.all(tokens.map((token) => sources.checkout({ url: repo.url, branch: "main", auth: { token } }, insecure)));
  assert.equal(new Set(checkouts.map((c) => c.dir)).size, tokens.length);
  assert.equal(uploadPacks(), tokens.length);
  assert.equal(lsRemotes(), tokens.length);
  assert.ok(server.peakInFlight <= 2, `at most 2 requests at once, saw ${server.peakInFlight}`);
  assert.ok(checkouts.every((c) => !/team-/.test(c.dir)), "paths name a hash, not the token");
});

test("a new commit is fetched once and announced once; old checkouts stay while read and go once replaced", async () => {
  const announced: string[] = [];
  const sources = new GitSources(await freshCache(), { concurrency: 4, keepRevisions: 1, onNewRevision: (_s, oid) => announced.push(oid) });
  const ref = { url: repo.url, branch: "main" };
  const first = await sources.checkout(ref, insecure);
  const second = await repo.commit({ "env/a.yaml": "a: 2\n" }, "second");
  const stale = await sources.checkout(ref, { ...insecure, maxAgeMs: 60_000 });
  assert.equal(stale.revision, first.revision, "a fresh-enough head is reused without asking");
  stale.release();
  const packs = uploadPacks();
  const fresh = await Promise.all(Array.from({ length: 5 }, () => sources.checkout(ref, insecure)));
  assert.deepEqual([...new Set(fresh.map((c) => c.revision))], [second]);
  assert.equal(uploadPacks() - packs, 1, "five Environments, one fetch");
  assert.deepEqual(announced, [second]);
  assert.equal(await fs.readFile(path.join(fresh[0]!.dir, "env/a.yaml"), "utf8"), "a: 2\n");
  assert.equal(await fs.readFile(path.join(first.dir, "env/a.yaml"), "utf8"), "a: 1\n", "still read by its reconcile: kept and untouched");
  first.release();
  for (const c of fresh) c.release();
  await repo.commit({ "env/a.yaml": "a: 3\n" }, "third");
  const third = await sources.checkout(ref, insecure);
  await assert.rejects(fs.stat(first.dir), "released and two revisions old: removed");
  await assert.rejects(fs.stat(fresh[0]!.dir), "released and replaced: removed");
  assert.equal(await fs.readFile(path.join(third.dir, "env/a.yaml"), "utf8"), "a: 3\n");
});

test("after a push a checkout fetches at once (one round trip, joined by the others); without one it checks the head first", async () => {
  const operations: string[] = [];
  const sources = new GitSources(await freshCache(), { concurrency: 4, onOperation: (op) => operations.push(op) });
  const ref = { url: repo.url, branch: "main" };
  const first = await sources.checkout(ref, insecure);
  const pushed = await repo.commit({ "env/b.yaml": "b: 1\n" }, "a push");
  const pushedAt = performance.now();
  const requests = server.requests.length;
  const pushedOptions = { ...insecure, expectNewHead: true };
  // Two Environments woken by the push: each may use a head seen after it (as the controller asks).
  const [afterPush, joined] = await Promise.all([sources.checkout(ref, pushedOptions), sources.checkout(ref, { ...pushedOptions, maxAgeMs: performance.now() - pushedAt })]);
  assert.equal(afterPush.revision, pushed);
  assert.equal(afterPush.fetched, true);
  assert.deepEqual(server.requests.slice(requests), ["GET /config.git/info/refs?service=git-upload-pack", "POST /config.git/git-upload-pack"], "ref advertisement and pack, no ls-remote first");
  assert.equal(joined.dir, afterPush.dir, "a checkout that may use the fetch's answer waits for it");
  assert.equal(await fs.readFile(path.join(afterPush.dir, "env/b.yaml"), "utf8"), "b: 1\n");
  const unchanged = await sources.checkout(ref, pushedOptions);
  assert.equal(unchanged.revision, pushed);
  assert.equal(unchanged.dir, afterPush.dir);
  assert.equal(unchanged.fetched, false, "the head had not moved: nothing new written");
  assert.deepEqual(operations, ["ls-remote", "fetch", "fetch", "fetch"], "the first checkout (no push) checked the head first");
  // Polling (no push): a head check, and no pack negotiation when nothing moved.
  await sources.checkout(ref, insecure);
  assert.deepEqual(operations.slice(4), ["ls-remote"]);
  assert.notEqual(first.revision, pushed);
  // The fetch was a head check: a run that may use a minute-old head asks nothing.
  const count = server.requests.length;
  assert.equal(await sources.head(ref, { ...insecure, maxAgeMs: 60_000 }), pushed);
  assert.equal(server.requests.length, count);
});

test("a push's run that starts after another run fetched the push asks for the refs only: one pack download per revision", async () => {
  // How two shards saw five pack downloads for two revisions (leader-faults): shard 0 annotates shard 1's
  // Environments one by one, and shard 1 also reruns them when its first fetch announces the revision; a
  // push-triggered run (expectNewHead) that started after that fetch ended must see a head newer than
  // its trigger, so it fetched again, and a fetch that found nothing new still downloaded a pack.
  const operations: string[] = [];
  const sources = new GitSources(await freshCache(), { concurrency: 4, onOperation: (op) => operations.push(op) });
  const ref = { url: repo.url, branch: "main" };
  await sources.checkout(ref, insecure);
  const pushed = await repo.commit({ "env/c.yaml": "c: 1\n" }, "pushed to two shards");
  const packs = uploadPacks();
  const pushedRun = { ...insecure, expectNewHead: true, maxAgeMs: 0 };
  const first = await sources.checkout(ref, pushedRun);
  const requests = server.requests.length;
  const second = await sources.checkout(ref, pushedRun);
  assert.deepEqual([first.revision, second.revision], [pushed, pushed]);
  assert.equal(second.dir, first.dir);
  assert.equal(second.fetched, false);
  assert.deepEqual(server.requests.slice(requests), ["GET /config.git/info/refs?service=git-upload-pack"], "the second run read the ref advertisement, no pack");
  assert.equal(uploadPacks() - packs, 1, "one pack download for the pushed revision");
  assert.deepEqual(operations.slice(-2), ["fetch", "fetch"], "both runs fetched at once (no head check first)");
});

test("a gitdir holds at most maxPacks packs: the next revision starts a new one, and a checkout in use keeps reading its own", async () => {
  const operations: string[] = [];
  const sources = new GitSources(await freshCache(), { concurrency: 4, keepRevisions: 1, maxPacks: 3, onOperation: (op) => operations.push(op) });
  const ref = { url: repo.url, branch: "main" };
  const held = await sources.checkout(ref, insecure);
  const root = path.dirname(held.dir);
  const gitdirs = async () => (await fs.readdir(root)).filter((n) => n.startsWith(".gitdir")).sort();
  const heldFiles = await fs.readFile(path.join(held.dir, "env/a.yaml"), "utf8");
  let newest = held.revision;
  for (let i = 0; i < 7; i++) {
    await repo.commit({ "env/busy.yaml": `n: ${i}\n` }, `busy ${i}`);
    const c = await sources.checkout(ref, insecure);
    newest = c.revision;
    c.release();
    for (const g of await gitdirs()) assert.ok((await packsIn(path.join(root, g))) <= 3, `${g} holds at most 3 packs after ${i + 2} fetches`);
  }
  assert.equal(operations.filter((op) => op === "fetch").length, 8, "one fetch per revision: a new gitdir costs no request of its own");
  assert.deepEqual(await gitdirs(), [".gitdir.1", ".gitdir.3"], "the first stays (a checkout reads it); the second went with its checkouts");
  assert.equal(await fs.readFile(path.join(held.dir, "env/a.yaml"), "utf8"), heldFiles);
  assert.match(await commitMessage(held.dir, held.revision), /./, "the held checkout still reads its commit through its gitdir");
  assert.equal(await sources.descends(ref, newest, held.revision, insecure), "descends", "the ancestry check deepens the new gitdir");
  held.release();
  await repo.commit({ "env/busy.yaml": "n: done\n" }, "busy done");
  await sources.checkout(ref, insecure);
  // The deepening fetch was the third pack of .gitdir.3, so this revision started .gitdir.4.
  assert.deepEqual(await gitdirs(), [".gitdir.4"], "released and replaced: the gitdirs of replaced checkouts went too");
});

test("a failed head check is shared like an answer: runs that may use one that old get the failure without asking again", async () => {
  const operations: string[] = [];
  const sources = new GitSources(await freshCache(), { concurrency: 4, onOperation: (op) => operations.push(op) });
  const ref = { url: repo.url, branch: "main" };
  const head = await sources.head(ref, insecure);
  assert.equal(sources.lastCheckAt(ref) !== undefined, true);
  await server.stop();
  try {
    const failedAt = sources.lastCheckAt(ref) ?? 0;
    await assert.rejects(sources.head(ref, insecure), /GIT_FAILED|git fetch from/);
    assert.ok((sources.lastCheckAt(ref) ?? 0) > failedAt, "a failed check counts as the newest check (the poller waits an interval after it)");
    const asked = operations.length;
    // Five interval runs that may use a minute-old answer: the newest answer is the failure, shared.
    const shared = await Promise.allSettled(Array.from({ length: 5 }, () => sources.head(ref, { ...insecure, maxAgeMs: 60_000 })));
    assert.deepEqual(shared.map((r) => r.status), ["rejected", "rejected", "rejected", "rejected", "rejected"]);
    assert.equal(operations.length, asked, "no request to the failing server");
  } finally {
    // A kept-alive connection to the stopped server that is still pooled is sent again on a new one (bounded-http).
    await server.start();
  }
  // A run that must see the server (a webhook push) asks again; its answer replaces the failure.
  assert.equal(await sources.head(ref, insecure), head);
  assert.equal(await sources.head(ref, { ...insecure, maxAgeMs: 60_000 }), head);
  assert.equal(sources.keyOf(ref), sources.keyOf({ ...ref }), "one key per repository, branch and credentials");
  assert.notEqual(sources.keyOf(ref), sources.keyOf({ ...ref, auth: { token: "t" } }));
});
