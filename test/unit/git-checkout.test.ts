// The agent's checkout of one commit from its gitdir: every file of every folder, symlinks kept as
// symlinks, the executable bit kept, the commit readable through the checkout, and a tree entry that
// would leave the checkout (crafted with git mktree, as a hostile server could send it) refused.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { checkoutFromGitdir, commitMessage } from "../../src/git/fetch.js";
import { BatonError } from "../../src/errors.js";

const exec = promisify(execFile);
let root: string;
let gitdir: string;
const git = async (...args: string[]) => (await exec("git", args, { cwd: root, encoding: "utf8" })).stdout.trim();

before(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), "baton-checkout-"));
  gitdir = path.join(root, "repo.git");
  await git("init", "--quiet", "--bare", gitdir);
});
after(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

/** A commit of `entries` (tree lines as git mktree reads them, nested trees given as their oid). */
async function commitTree(lines: string[], message: string): Promise<string> {
  const tree = await mktree(lines);
  return (await exec("git", ["--git-dir", gitdir, "commit-tree", tree, "-m", message], { encoding: "utf8", env: { ...process.env, GIT_AUTHOR_NAME: "a", GIT_AUTHOR_EMAIL: "a@example.com", GIT_COMMITTER_NAME: "a", GIT_COMMITTER_EMAIL: "a@example.com" } })).stdout.trim();
}

async function mktree(lines: string[]): Promise<string> {
  const child = exec("git", ["--git-dir", gitdir, "mktree"], { encoding: "utf8" });
  child.child.stdin?.end(lines.map((l) => `${l}\n`).join(""));
  return (await child).stdout.trim();
}

async function blob(text: string): Promise<string> {
  const child = exec("git", ["--git-dir", gitdir, "hash-object", "-w", "--stdin"], { encoding: "utf8" });
  child.child.stdin?.end(text);
  return (await child).stdout.trim();
}

test("a checkout holds every file of the commit, symlinks as symlinks and the executable bit, and reads the commit", async () => {
  const deployment = await blob("kind: Deployment\n");
  const script = await blob("#!/bin/sh\necho hi\n");
  const nested = await mktree([`100644 blob ${deployment}\tdeployment.yaml`, `120000 blob ${await blob("deployment.yaml")}\tlink.yaml`]);
  const env = await mktree([`040000 tree ${nested}\tstaging`, `100755 blob ${script}\trun.sh`]);
  const oid = await commitTree([`040000 tree ${env}\tenvironments`, `100644 blob ${await blob("a: 1\n")}\tbaton.yaml`], "a tree of files");
  const dir = path.join(root, "checkout");
  await checkoutFromGitdir(gitdir, oid, dir);
  assert.equal(await fs.readFile(path.join(dir, "baton.yaml"), "utf8"), "a: 1\n");
  assert.equal(await fs.readFile(path.join(dir, "environments/staging/deployment.yaml"), "utf8"), "kind: Deployment\n");
  assert.equal(await fs.readlink(path.join(dir, "environments/staging/link.yaml")), "deployment.yaml", "a symlink stays a symlink");
  assert.equal((await fs.stat(path.join(dir, "environments/run.sh"))).mode & 0o111, 0o111, "the executable bit is kept");
  assert.equal((await fs.stat(path.join(dir, "baton.yaml"))).mode & 0o111, 0, "a plain file is not executable");
  assert.deepEqual((await fs.readdir(dir)).sort(), [".git", "baton.yaml", "environments"]);
  assert.match(await commitMessage(dir, oid), /a tree of files/, "the commit is read through the checkout's .git file");
});

test("a tree entry that is not a file name (.., .git) is refused before anything is written through it", async () => {
  const evil = await blob("owned\n");
  // A folder named ".." would put its files next to the checkout; a file named ".git" would replace the link to the gitdir.
  const escaping = await commitTree([`040000 tree ${await mktree([`100644 blob ${evil}\tescaped.yaml`])}\t..`], "hostile ..");
  await assert.rejects(checkoutFromGitdir(gitdir, escaping, path.join(root, "hostile-dotdot")), (e: unknown) => e instanceof BatonError && e.code === "PATH_TRAVERSAL" && e.message.includes('".."'));
  assert.equal(await fs.stat(path.join(root, "escaped.yaml")).then(() => true, () => false), false, "nothing was written outside the checkout");
  const shadowing = await commitTree([`040000 tree ${await mktree([`100644 blob ${evil}\t.git`])}\tenvironments`], "hostile .git");
  const dir = path.join(root, "hostile-git");
  await assert.rejects(checkoutFromGitdir(gitdir, shadowing, dir), (e: unknown) => e instanceof BatonError && e.code === "PATH_TRAVERSAL" && e.message.includes('".git"'));
  assert.equal(await fs.stat(path.join(dir, "environments/.git")).then(() => true, () => false), false, "no .git file was written");
});
