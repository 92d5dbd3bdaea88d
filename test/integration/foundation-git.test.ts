// The git harness is a real smart-HTTP server: the git CLI pushes, isomorphic-git fetches back.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { promises as fs } from "node:fs";
import * as nodeFs from "node:fs";
import os from "node:os";
import path from "node:path";
import git from "isomorphic-git";
import http from "isomorphic-git/http/node";
import { GitServer } from "../support/git-server.js";

test("a pushed commit is fetched back with isomorphic-git, with basic auth enforced", async () => {
  const server = await GitServer.create({ auth: { username: "ci", password: "s3cret" } });
  try {
    await server.createRepo("config");
    const work = await fs.mkdtemp(path.join(os.tmpdir(), "baton-work-"));
    // Async on purpose: the server runs in this process, a sync child would block it.
    const run = async (...args: string[]) => (await promisify(execFile)("git", ["-C", work, ...args], { encoding: "utf8" })).stdout.trim();
    await run("init", "--quiet", "--initial-branch=main");
    await run("config", "user.email", "t@example.com");
    await run("config", "user.name", "Test");
    await fs.writeFile(path.join(work, "README.md"), "hello\n");
    await run("add", ".");
    await run("commit", "--quiet", "-m", "first");
    const sha = await run("rev-parse", "HEAD");
    await run("push", "--quiet", server.authUrl("config"), "main");

    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "baton-clone-"));
    await assert.rejects(git.clone({ fs: nodeFs, http, dir, url: server.url("config"), singleBranch: true, depth: 1 }), /401|HttpError/);
    await git.clone({ fs: nodeFs, http, dir, url: server.url("config"), ref: "main", singleBranch: true, depth: 1, onAuth: () => ({ username: "ci", password: "s3cret" }) });
    assert.equal(await git.resolveRef({ fs: nodeFs, dir, ref: "HEAD" }), sha);
    assert.equal(await fs.readFile(path.join(dir, "README.md"), "utf8"), "hello\n");
  } finally {
    await server.destroy();
  }
});
