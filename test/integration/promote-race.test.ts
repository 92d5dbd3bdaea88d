// Two writers racing on the same config repo: a rejected push is fetched, rebased and retried, never lost.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { promises as fs } from "node:fs";
import path from "node:path";
import { GitServer } from "../support/git-server.js";
import { cloneConfigRepo, git, seedConfigRepo } from "../support/example-repo.js";
import { GitWorkspace } from "../../src/promote/git-workspace.js";
import { pin } from "../../src/promote/pin.js";
import { BatonError } from "../../src/errors.js";

let server: GitServer;
before(async () => {
  server = await GitServer.create();
});
after(async () => {
  await server.destroy();
});

async function commitFile(dir: string, file: string, text: string, message: string): Promise<void> {
  await fs.writeFile(path.join(dir, file), text);
  await git(dir, "add", file);
  await git(dir, "commit", "--quiet", "-m", message);
}

test("a push rejected because someone else pushed first is rebased and retried; both commits land", async () => {
  await seedConfigRepo(server, "acme/race1");
  const a = await cloneConfigRepo(server, "acme/race1", "A");
  const b = await cloneConfigRepo(server, "acme/race1", "B");
  await commitFile(a, "environments/testing/a.txt", "a\n", "A's change");
  await commitFile(b, "environments/staging/b.txt", "b\n", "B's change");
  await git(b, "push", "--quiet", "origin", "main");
  const ws = await GitWorkspace.open(a);
  assert.deepEqual(await ws.push("main"), { attempts: 2 });
  const check = await cloneConfigRepo(server, "acme/race1", "Check");
  assert.deepEqual((await git(check, "log", "--format=%s", "-3")).split("\n"), ["A's change", "B's change", "Example config repo"]);
});

test("two pins racing on the same line: one lands, the other fails loudly, none is lost silently", async () => {
  await seedConfigRepo(server, "acme/race2");
  const a = await cloneConfigRepo(server, "acme/race2", "A");
  const b = await cloneConfigRepo(server, "acme/race2", "B");
  const d = (c: string) => `sha256:${c.repeat(64)}`;
  const results = await Promise.allSettled([
    pin({ repo: a, env: "testing", images: [`web=ghcr.io/acme/web@${d("a")}`], mode: "commit" }),
    pin({ repo: b, env: "testing", images: [`web=ghcr.io/acme/web@${d("b")}`], mode: "commit" }),
  ]);
  // Both edit the same line: one lands, the other either lands after a clean rebase or fails loudly.
  const ok = results.filter((r) => r.status === "fulfilled");
  const failed = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
  assert.ok(ok.length >= 1);
  for (const f of failed) assert.ok(f.reason instanceof BatonError && f.reason.code === "GIT_PUSH_REJECTED", String(f.reason));
  const check = await cloneConfigRepo(server, "acme/race2", "Check");
  assert.equal(Number(await git(check, "rev-list", "--count", "HEAD")), 1 + ok.length);
  // Nothing half-done: the loser's clone has no rebase in progress.
  for (const dir of [a, b]) await assert.rejects(fs.access(path.join(dir, ".git/rebase-merge")));
});

test("a rebase conflict fails with GIT_PUSH_REJECTED and aborts the rebase", async () => {
  await seedConfigRepo(server, "acme/race3");
  const a = await cloneConfigRepo(server, "acme/race3", "A");
  const b = await cloneConfigRepo(server, "acme/race3", "B");
  await commitFile(a, "environments/testing/same.txt", "from a\n", "A");
  await commitFile(b, "environments/testing/same.txt", "from b\n", "B");
  await git(b, "push", "--quiet", "origin", "main");
  const ws = await GitWorkspace.open(a);
  await assert.rejects(ws.push("main"), (e: unknown) => e instanceof BatonError && e.code === "GIT_PUSH_REJECTED" && /conflicts/.test(e.message));
  assert.equal(await git(a, "status", "--porcelain"), "");
  assert.equal(await git(a, "log", "-1", "--format=%s"), "A");
});
