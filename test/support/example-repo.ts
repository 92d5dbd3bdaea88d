/**
 * The example config repo (baton.yaml + environments/ from the repo root) pushed to a bare repo on the
 * test git server, and a fresh clone of it to run Baton in. Async git only: the server is in-process.
 */
import { execFile } from "node:child_process";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import type { GitServer } from "./git-server.js";

const exec = promisify(execFile);
const root = path.resolve(import.meta.dirname, "../..");

export async function git(dir: string, ...args: string[]): Promise<string> {
  return (await exec("git", ["-C", dir, ...args], { encoding: "utf8" })).stdout.trim();
}

async function identity(dir: string, name: string): Promise<void> {
  await git(dir, "config", "user.email", `${name.toLowerCase()}@example.com`);
  await git(dir, "config", "user.name", name);
}

/** Creates `name` on the server with the example repo as its first commit on main. */
export async function seedConfigRepo(server: GitServer, name = "acme/config"): Promise<void> {
  await server.createRepo(name);
  const work = await fs.mkdtemp(path.join(os.tmpdir(), "baton-seed-"));
  await fs.copyFile(path.join(root, "baton.yaml"), path.join(work, "baton.yaml"));
  await fs.cp(path.join(root, "environments"), path.join(work, "environments"), { recursive: true });
  await git(work, "init", "--quiet", "--initial-branch=main");
  await identity(work, "Seeder");
  await git(work, "add", ".");
  await git(work, "commit", "--quiet", "-m", "Example config repo");
  await git(work, "push", "--quiet", server.authUrl(name), "main");
  await fs.rm(work, { recursive: true, force: true });
}

/** A clone of `name` with its own committer identity, as a CI job or a developer would have. */
export async function cloneConfigRepo(server: GitServer, name = "acme/config", who = "Dev"): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "baton-clone-"));
  await exec("git", ["clone", "--quiet", server.authUrl(name), dir]);
  await identity(dir, who);
  return dir;
}
