// In integration (not unit): it runs dozens of git processes, which take seconds on a loaded machine.
// The console reads every environment's history from one `git log` and in-process object reads
// (git-objects.ts). It must list exactly what `baton history` lists through a git process per object:
// merges (diffed against their first parent), a commit touching two environments, a file-level pathspec,
// a linked worktree (whose `.git` is a file), and after `git gc` packs the objects.
import { test } from "node:test";
import assert from "node:assert/strict";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { git } from "../support/example-repo.js";
import { loadPipeline } from "../../src/config/pipeline.js";
import { environmentHistory, histories } from "../../src/promote/history.js";
import { GitWorkspace } from "../../src/promote/git-workspace.js";
import { objectReader } from "../../src/promote/git-objects.js";

const root = path.resolve(import.meta.dirname, "../..");
const digest = (c: string) => `sha256:${c.repeat(64)}`;

async function pin(repo: string, env: string, d: string): Promise<void> {
  const file = path.join(repo, "environments", env, "web.yaml");
  await fs.writeFile(file, (await fs.readFile(file, "utf8")).replace(/@sha256:[0-9a-f]{64}/, `@${d}`));
}

async function exampleRepo(): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "baton-history-batched-"));
  await fs.copyFile(path.join(root, "baton.yaml"), path.join(dir, "baton.yaml"));
  await fs.cp(path.join(root, "environments"), path.join(dir, "environments"), { recursive: true });
  await git(dir, "init", "--quiet", "--initial-branch=main");
  await git(dir, "config", "user.email", "ann@example.com");
  await git(dir, "config", "user.name", "Ann");
  await git(dir, "add", ".");
  await git(dir, "commit", "--quiet", "-m", "Example config repo");
  await pin(dir, "testing", digest("a"));
  await git(dir, "commit", "--quiet", "-am", "Pin web in testing (#1)");
  // A promotion PR merged with a merge commit, while main moved on in another environment.
  await git(dir, "checkout", "--quiet", "-b", "baton/promote/staging/aaaaaaa");
  await pin(dir, "staging", digest("a"));
  await git(dir, "commit", "--quiet", "-am", "Promote web to staging\n\nBaton-Promotion: testing -> staging");
  await git(dir, "checkout", "--quiet", "main");
  await pin(dir, "testing", digest("b"));
  await git(dir, "commit", "--quiet", "-am", "Pin web in testing (#3)");
  await git(dir, "merge", "--quiet", "--no-ff", "-m", "Merge pull request #2 from acme/baton/promote/staging/aaaaaaa", "baton/promote/staging/aaaaaaa");
  // One commit that changes two environments.
  await pin(dir, "staging", digest("c"));
  await pin(dir, "production", digest("c"));
  await git(dir, "commit", "--quiet", "-am", "Hotfix staging and production");
  return dir;
}

async function assertSameAsPerEnvironment(repo: string): Promise<void> {
  const pipeline = await loadPipeline(repo);
  const batched = await histories(repo, pipeline.environments);
  const ws = await GitWorkspace.open(repo);
  for (const env of pipeline.environments) {
    const one = await environmentHistory(ws, env, {});
    assert.ok(one.length > 0);
    assert.deepEqual(batched.get(env.name), one, env.name);
  }
  assert.deepEqual([...batched.values()].map((h) => (Array.isArray(h) ? h.map((e) => e.kind) : h)), [
    ["pin", "pin", "commit"], ["commit", "promotion", "commit"], ["commit", "commit"],
  ]);
  // Object reads agree with `git ls-tree -r` for a folder, a file, a missing path and the root.
  const fallbacks: string[] = [];
  const reader = await objectReader(ws, { onFallback: (what) => fallbacks.push(what) });
  const head = await ws.head();
  for (const p of ["environments/staging", "environments/staging/web.yaml", "environments/nope", "environments/staging/web.yaml/x", "."]) {
    assert.deepEqual(await reader.treeBlobs(head, p), await ws.treeBlobs(head, p), p);
  }
  assert.deepEqual(await reader.message(head), `${await ws.message(head)}`.replace(/\n+$/, "\n"));
  assert.equal((await reader.blob((await reader.treeBlobs(head, "baton.yaml"))[0]?.oid ?? "")), await fs.readFile(path.join(repo, "baton.yaml"), "utf8"));
  assert.deepEqual(fallbacks, [], "every read was answered in-process");
}

test("one git log and in-process reads give every environment the history baton history gives it: loose, then packed in a linked worktree", async () => {
  const repo = await exampleRepo();
  const tree = `${repo}-worktree`;
  try {
    await assertSameAsPerEnvironment(repo);
    // Packed objects, read from a linked worktree whose .git is a file: the objects live in the main clone.
    await git(repo, "gc", "--quiet");
    await git(repo, "worktree", "add", "--quiet", "--detach", tree, "HEAD");
    await assertSameAsPerEnvironment(tree);
  } finally {
    await fs.rm(tree, { recursive: true, force: true });
    await fs.rm(repo, { recursive: true, force: true });
  }
});
