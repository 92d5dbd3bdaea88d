/**
 * `npm run bench git-packs`: a long-running agent following a busy branch. One source fetches N commits one
 * by one (each a shallow fetch that adds a pack to the source's gitdir) from the test git server
 * (`git http-backend`), twice: with gitdirs never started afresh (as before `maxPacks`) and with the default
 * bound. Printed: packs and bytes of the source's gitdirs, and the time of a fetch + checkout of the newest
 * commit, first commits against last ones (ratios from one run; the absolute times follow the load).
 */
import { execFileSync } from "node:child_process";
import * as nodeFs from "node:fs";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import git from "isomorphic-git";
import { checkoutFromGitdir } from "../src/git/fetch.js";
import { GitSources, packsIn } from "../src/git/sources.js";
import { ConfigRepo } from "../test/support/config-repo.js";
import { GitServer } from "../test/support/git-server.js";
import { machineLock } from "../test/support/machine-lock.js";
import { machineLine } from "./machine.js";

const COMMITS = Number(process.env.BATON_BENCH_COMMITS ?? 200);
/** Files in the repository (a config repo of a few dozen environments); each commit changes one. */
const FILES = 100;
const WINDOW = 10;

async function dirBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await fs.readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const full = path.join(dir, entry.name);
    total += entry.isDirectory() ? await dirBytes(full) : (await fs.stat(full)).size;
  }
  return total;
}

/** Bytes of all the source's gitdirs (an older one stays while a checkout reads it). */
async function gitdirBytes(root: string): Promise<number> {
  let total = 0;
  for (const name of await fs.readdir(root)) if (name.startsWith(".gitdir")) total += await dirBytes(path.join(root, name));
  return total;
}
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

export async function gitPacksBench(): Promise<void> {
  const server = await GitServer.create();
  const files = Object.fromEntries(Array.from({ length: FILES }, (_, i) => [`environments/env-${i}/values.yaml`, `replicas: 1\nimage: ghcr.io/acme/web:${i}\n${"# padding\n".repeat(40)}`]));
  const repo = await ConfigRepo.create(server, "busy", files);
  try {
    console.log(`git-packs: ${COMMITS} commits fetched one by one into one source (${FILES} files)`);
    // The machine lock for each run, not for both (other engineers' test runs wait meanwhile).
    const unbounded = await locked(() => follow(repo, "gitdir never started afresh", Number.POSITIVE_INFINITY));
    const bounded = await locked(() => follow(repo, "default maxPacks", undefined));
    console.log(`  checkout alone (reading the head's objects), after ${COMMITS} commits: never afresh / default = ${(unbounded.checkout / bounded.checkout).toFixed(2)}`);
    console.log(`  one commit read, after ${COMMITS} commits: never afresh / default = ${(unbounded.read / bounded.read).toFixed(1)}`);
    console.log(`  fetch+checkout, last ${WINDOW}: never afresh / default = ${(unbounded.last / bounded.last).toFixed(2)}`);
    console.log(`  ${machineLine()}`);
  } finally {
    await server.destroy();
    await repo.destroy();
  }
}

async function locked<T>(run: () => Promise<T>): Promise<T> {
  const unlock = await machineLock();
  try {
    return await run();
  } finally {
    unlock();
  }
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** The median time of writing the checkout of `oid` from `gitdir` (object lookups only, no network), over 5 runs. */
async function checkoutTime(gitdir: string, oid: string): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "baton-bench-checkout-"));
    const started = performance.now();
    await checkoutFromGitdir(gitdir, oid, path.join(dir, "c"));
    times.push(performance.now() - started);
    await fs.rm(dir, { recursive: true, force: true });
  }
  return median(times);
}

/**
 * The median time of reading one commit with no cache, over 9 reads: what the ancestry check, the signature
 * check and the commit message each pay per call (isomorphic-git reads every pack index of the gitdir).
 */
async function commitReadTime(gitdir: string, oid: string): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < 9; i++) {
    const started = performance.now();
    await git.readCommit({ fs: nodeFs, gitdir, oid });
    times.push(performance.now() - started);
  }
  return median(times);
}

/**
 * Follows the branch for COMMITS commits; returns the mean time of the last WINDOW fetch+checkouts and the
 * time of a checkout alone at the end.
 */
async function follow(repo: ConfigRepo, label: string, maxPacks: number | undefined): Promise<{ last: number; checkout: number; read: number }> {
  const cacheDir = await fs.mkdtemp(path.join(os.tmpdir(), "baton-bench-packs-"));
  const sources = new GitSources(cacheDir, { concurrency: 4, ...(maxPacks !== undefined ? { maxPacks } : {}) });
  const ref = { url: repo.url, branch: "main" };
  try {
    const times: number[] = [];
    let checkoutFirst = 0;
    let checkoutLast = 0;
    let readFirst = 0;
    let readLast = 0;
    console.log(`  ${label} (uptime: ${execFileSync("uptime", { encoding: "utf8" }).trim()}):`);
    for (let i = 0; i < COMMITS; i++) {
      await repo.commit({ [`environments/env-${i % FILES}/values.yaml`]: `replicas: ${i + 2}\nimage: ghcr.io/acme/web:${i}\n` }, `commit ${i}`);
      const started = performance.now();
      const checkout = await sources.checkout(ref, { allowInsecureHttp: true });
      times.push(performance.now() - started);
      checkout.release();
      if (i === 0 || (i + 1) % 50 === 0) {
        const root = path.dirname(checkout.dir);
        const gitdir = (await fs.readFile(path.join(checkout.dir, ".git"), "utf8")).slice("gitdir: ".length).trim();
        const alone = await checkoutTime(gitdir, checkout.revision);
        const read = await commitReadTime(gitdir, checkout.revision);
        if (i === 0) [checkoutFirst, readFirst] = [alone, read];
        [checkoutLast, readLast] = [alone, read];
        console.log(`    after ${String(i + 1).padStart(4)} commits: ${String(await packsIn(gitdir)).padStart(4)} packs, gitdirs ${((await gitdirBytes(root)) / 1024).toFixed(0)} KiB, fetch+checkout mean of the last ${Math.min(WINDOW, i + 1)}: ${mean(times.slice(-WINDOW)).toFixed(0)} ms, checkout alone ${alone.toFixed(0)} ms, one commit read ${read.toFixed(1)} ms`);
      }
    }
    const first = mean(times.slice(1, WINDOW + 1));
    const last = mean(times.slice(-WINDOW));
    console.log(`    fetch+checkout: commits 2-${WINDOW + 1} mean ${first.toFixed(0)} ms, last ${WINDOW} mean ${last.toFixed(0)} ms, last/first ${(last / first).toFixed(2)}; checkout alone last/first ${(checkoutLast / checkoutFirst).toFixed(2)}; one commit read last/first ${(readLast / readFirst).toFixed(1)}`);
    return { last, checkout: checkoutLast, read: readLast };
  } finally {
    await fs.rm(cacheDir, { recursive: true, force: true });
  }
}
