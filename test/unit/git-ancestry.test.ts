// Ancestry over shared fetches against a real git server (git http-backend): the agent's depth-1 fetch
// holds only the head, so whether it descends from the last applied revision is read from the history
// already fetched, deepened only where it ends; a force-pushed unrelated history has diverged.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { GitSources } from "../../src/git/sources.js";
import { ConfigRepo } from "../support/config-repo.js";
import { GitServer } from "../support/git-server.js";

const insecure = { allowInsecureHttp: true };
let server: GitServer;
let repo: ConfigRepo;
let cache: string;
before(async () => {
  server = await GitServer.create();
  repo = await ConfigRepo.create(server, "config", { "env/a.yaml": "a: 1\n" });
  cache = await fs.mkdtemp(path.join(os.tmpdir(), "baton-ancestry-"));
});
after(async () => {
  await server.destroy();
  await repo.destroy();
  await fs.rm(cache, { recursive: true, force: true });
});

test("ancestry: a head two commits ahead descends (history fetched as needed); a rewritten history has diverged", async () => {
  const operations: string[] = [];
  const sources = new GitSources(cache, { concurrency: 2, onOperation: (op) => operations.push(op) });
  const ref = { url: repo.url, branch: "main" };
  const first = await sources.checkout(ref, insecure);
  for (const n of [1, 2]) await repo.commit({ [`env/n${n}.yaml`]: `n: ${n}\n` }, `commit ${n}`);
  const ahead = await sources.checkout(ref, insecure);
  operations.length = 0;
  // The shallow fetch holds only the head: without fetching more, the answer is unknown.
  assert.equal(await sources.descends(ref, ahead.revision, first.revision, insecure, []), "unknown");
  assert.deepEqual(operations, []);
  assert.equal(await sources.descends(ref, ahead.revision, first.revision, insecure), "descends");
  assert.deepEqual(operations, ["fetch"], "one deepening fetch covers the commits between");
  assert.equal(await sources.descends(ref, ahead.revision, first.revision, insecure), "descends");
  assert.deepEqual(operations, ["fetch"], "history once fetched is not fetched again");
  // A force-pushed, unrelated history: its walk reaches a root commit without the old head.
  await repo.git("checkout", "--quiet", "--orphan", "rewritten");
  await repo.git("commit", "--quiet", "-m", "unrelated history");
  await repo.git("push", "--quiet", "--force", "origin", "rewritten:main");
  const rewritten = await sources.checkout(ref, insecure);
  assert.notEqual(rewritten.revision, ahead.revision);
  assert.equal(await sources.descends(ref, rewritten.revision, ahead.revision, insecure), "diverged");
});
