/**
 * A thin simple-git adapter over a local clone of the config repo. Everything Baton does to git goes
 * through here, so the orchestration code stays testable and every git failure becomes a BatonError.
 * All calls are async child processes (the test git server runs in the same process).
 */
import { promises as fs } from "node:fs";
import path from "node:path";
import { simpleGit, type SimpleGit } from "simple-git";
import { BatonError } from "../errors.js";
import type { FileEdit } from "../config/edit.js";
import { resolveInRepo } from "../config/files.js";

export const REMOTE = "origin";
export const MAX_PUSH_ATTEMPTS = 3;

export interface LogEntry {
  sha: string;
  date: string;
  author: string;
  email: string;
  subject: string;
  body: string;
  /** Commits with more than one parent (merges of promotion PRs). */
  parents: string[];
}

function gitError(e: unknown, what: string, hint?: string): BatonError {
  const message = e instanceof Error ? e.message.trim().split("\n").filter(Boolean).slice(0, 3).join("; ") : String(e);
  return new BatonError("GIT_FAILED", `git ${what} failed: ${message}`, { cause: e, hint: hint ?? "check that --repo is a clone of the config repo and that origin is reachable" });
}

export class GitWorkspace {
  private constructor(readonly dir: string, private readonly git: SimpleGit) {}

  static async open(dir: string): Promise<GitWorkspace> {
    const git = simpleGit({ baseDir: dir, trimmed: false });
    let isRepo = false;
    try {
      isRepo = await git.checkIsRepo();
    } catch (e) {
      throw gitError(e, "rev-parse", `is ${dir} a git clone of the config repo?`);
    }
    if (!isRepo) throw new BatonError("GIT_FAILED", `${dir} is not a git repository`, { hint: "pass --repo DIR pointing at a clone of the config repo" });
    return new GitWorkspace(dir, git);
  }

  private async run(args: string[], what = args[0] ?? "command"): Promise<string> {
    try {
      return await this.git.raw(args);
    } catch (e) {
      throw gitError(e, what);
    }
  }

  async currentBranch(): Promise<string> {
    const name = (await this.run(["rev-parse", "--abbrev-ref", "HEAD"])).trim();
    if (name === "HEAD") throw new BatonError("GIT_FAILED", "the clone is on a detached HEAD", { hint: "check out the base branch (e.g. git checkout main) first" });
    return name;
  }

  async head(ref = "HEAD"): Promise<string> {
    return (await this.run(["rev-parse", "--verify", `${ref}^{commit}`], "rev-parse")).trim();
  }

  /** Refuses to work on a clone with uncommitted changes: Baton's commits must contain only its own edits. */
  async ensureClean(): Promise<void> {
    const status = await this.git.status().catch((e: unknown) => {
      throw gitError(e, "status");
    });
    if (!status.isClean()) {
      const files = status.files.map((f) => f.path).slice(0, 5);
      throw new BatonError("GIT_DIRTY", `the config repo clone has uncommitted changes (${files.join(", ")}${status.files.length > 5 ? ", …" : ""})`, {
        file: files[0], hint: "commit or stash them (git stash -u), then rerun",
      });
    }
  }

  /** Changes when HEAD moves (commit, pull, checkout) or the working tree's status does: what the console polls. */
  async stateFingerprint(): Promise<string> {
    const head = await this.run(["rev-parse", "HEAD"], "rev-parse");
    return `${head.trim()}\n${await this.run(["status", "--porcelain=v1", "--untracked-files=all"], "status")}`;
  }

  async remoteUrl(): Promise<string | undefined> {
    try {
      return (await this.git.raw(["remote", "get-url", REMOTE])).trim() || undefined;
    } catch {
      return undefined;
    }
  }

  async fetch(branch?: string): Promise<void> {
    await this.run(branch ? ["fetch", "--quiet", REMOTE, branch] : ["fetch", "--quiet", REMOTE], "fetch");
  }

  /**
   * Brings the local base branch up to origin's (fast-forward only), so plans start from what is merged.
   * Local commits origin lacks stay when origin has not moved; when both moved it cannot fast-forward
   * (GIT_DIVERGED), and uncommitted changes in the way are GIT_DIRTY: each says which git command gets out.
   */
  async syncBase(branch: string): Promise<void> {
    await this.fetch(branch);
    const upstream = `${REMOTE}/${branch}`;
    // "<behind>\t<ahead>": commits only origin has, commits only the local branch has.
    const [behind = 0, ahead = 0] = (await this.run(["rev-list", "--left-right", "--count", `${upstream}...HEAD`], "rev-list")).trim().split(/\s+/).map(Number);
    if (behind === 0) return;
    if (ahead > 0) {
      throw new BatonError("GIT_DIVERGED", `local ${branch} in ${this.dir} has ${ahead} commit(s) that ${upstream} lacks, and ${upstream} has moved on: it cannot fast-forward`, {
        hint: `drop them (git -C ${this.dir} reset --hard ${upstream}), or keep them (git -C ${this.dir} pull --rebase, then push)`,
      });
    }
    await this.run(["merge", "--ff-only", "--quiet", upstream], "merge --ff-only").catch((e: unknown) => {
      if (!/would be overwritten/.test(e instanceof Error ? e.message : "")) throw e;
      throw new BatonError("GIT_DIRTY", `cannot fast-forward ${branch} in ${this.dir} to ${upstream}: uncommitted changes there would be overwritten`, {
        cause: e, hint: `commit or stash them (git -C ${this.dir} stash -u)`,
      });
    });
  }

  /** Creates (or resets) `name` at `from` and checks it out. */
  async createBranch(name: string, from = "HEAD"): Promise<void> {
    await this.run(["checkout", "--quiet", "-B", name, from], "checkout -B");
  }

  /** Puts `file` as it is in `ref` into the index and work tree (no branch change). */
  async checkoutFile(ref: string, file: string): Promise<void> {
    await this.run(["checkout", "--quiet", ref, "--", file], "checkout");
  }

  async checkout(name: string): Promise<void> {
    await this.run(["checkout", "--quiet", name], "checkout");
  }

  /** Writes planned edits; each file must still hold the `before` the plan was made from. */
  async writeEdits(edits: FileEdit[]): Promise<string[]> {
    for (const edit of edits) {
      const full = resolveInRepo(this.dir, edit.file, { file: edit.file, field: "path" });
      const current = await fs.readFile(full, "utf8").catch(() => undefined);
      if (current !== undefined && current !== edit.before) {
        throw new BatonError("GIT_FAILED", `${edit.file} changed since the plan was made`, { file: edit.file, hint: "rerun the command" });
      }
      await fs.mkdir(path.dirname(full), { recursive: true });
      await fs.writeFile(full, edit.after);
    }
    return edits.map((e) => e.file);
  }

  async readFile(file: string): Promise<string | undefined> {
    return fs.readFile(resolveInRepo(this.dir, file, { file, field: "path" }), "utf8").catch(() => undefined);
  }

  /** Stages exactly `files` and commits them; the author comes from the clone's git config. */
  async commit(message: string, files: string[]): Promise<string> {
    if (files.length > 0) await this.run(["add", "--all", "--", ...files], "add");
    await this.run(["commit", "--quiet", "--no-verify", "-m", message], "commit");
    return this.head();
  }

  /**
   * Pushes HEAD to `branch` on origin. `force` is for Baton's own promotion branches (a rerun replaces
   * them). Otherwise a rejected push (someone else pushed first) is fetched, rebased and retried, so two
   * racing promotions never lose a commit; after MAX_PUSH_ATTEMPTS it gives up with GIT_PUSH_REJECTED.
   */
  async push(branch: string, options: { force?: boolean; attempts?: number } = {}): Promise<{ attempts: number }> {
    const attempts = options.attempts ?? MAX_PUSH_ATTEMPTS;
    let last: unknown;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      try {
        await this.git.raw(["push", "--quiet", ...(options.force ? ["--force"] : []), REMOTE, `HEAD:refs/heads/${branch}`]);
        return { attempts: attempt };
      } catch (e) {
        last = e;
        if (options.force || !isRejection(e)) throw gitError(e, "push");
      }
      await this.fetch(branch);
      try {
        await this.git.raw(["rebase", "--quiet", `${REMOTE}/${branch}`]);
      } catch (e) {
        await this.git.raw(["rebase", "--abort"]).catch(() => undefined);
        throw new BatonError("GIT_PUSH_REJECTED", `push to ${branch} was rejected and rebasing onto ${REMOTE}/${branch} conflicts`, {
          cause: e, hint: "someone changed the same files; rerun the command to plan from the new state",
        });
      }
    }
    throw new BatonError("GIT_PUSH_REJECTED", `push to ${branch} was rejected ${attempts} times`, {
      cause: last, hint: "the branch is busy (or protected); rerun later, or open a PR instead of pushing directly",
    });
  }

  /** Commits that touched `paths`, newest first. */
  async log(paths: string[], options: { maxCount?: number; ref?: string; firstParent?: boolean } = {}): Promise<LogEntry[]> {
    const SEP = "\x1f";
    const END = "\x1e";
    const out = await this.run(["log", `--format=%H${SEP}%P${SEP}%aI${SEP}%an${SEP}%ae${SEP}%s${SEP}%b${END}`, ...(options.maxCount ? [`--max-count=${options.maxCount}`] : []), ...(options.firstParent ? ["--first-parent"] : []), options.ref ?? "HEAD", "--", ...paths], "log");
    return out.split(END).map((r) => r.replace(/^\n/, "")).filter((r) => r.trim()).map((record) => {
      const [sha = "", parents = "", date = "", author = "", email = "", subject = "", body = ""] = record.split(SEP);
      return { sha, parents: parents.split(" ").filter(Boolean), date, author, email, subject, body };
    });
  }

  /**
   * `log` with the files each commit changed (against its first parent with `firstParent`, as `git log
   * --first-parent` diffs merges): one process for the history of many folders (see git-objects.ts).
   */
  async logWithFiles(paths: string[], options: { ref?: string; firstParent?: boolean } = {}): Promise<Array<LogEntry & { files: string[] }>> {
    const SEP = "\x1f";
    const out = await this.run(["log", "-z", "--name-only", "--no-renames", `--format=%x1e%H${SEP}%P${SEP}%aI${SEP}%an${SEP}%ae${SEP}%s${SEP}%b${SEP}`, ...(options.firstParent ? ["--first-parent"] : []), options.ref ?? "HEAD", "--", ...paths], "log");
    return out.split("\x1e").filter((r) => r.trim()).map((record) => {
      // The header ends at its last separator; the NUL-separated file names follow (no quoting with -z).
      const end = record.lastIndexOf(SEP);
      const [sha = "", parents = "", date = "", author = "", email = "", subject = "", body = ""] = record.slice(0, end).split(SEP);
      const files = record.slice(end + 1).split("\0").map((f) => f.replace(/^\n/, "")).filter(Boolean);
      return { sha, parents: parents.split(" ").filter(Boolean), date, author, email, subject, body, files };
    });
  }

  /** The directory holding the clone's objects (a linked worktree shares its main clone's). */
  async gitCommonDir(): Promise<string> {
    return (await this.run(["rev-parse", "--git-common-dir"], "rev-parse")).trim();
  }

  /** A file's content at a commit, or undefined if it did not exist there. */
  async show(sha: string, file: string): Promise<string | undefined> {
    try {
      return await this.git.raw(["show", `${sha}:${file}`]);
    } catch {
      return undefined;
    }
  }

  /**
   * Commits `edits` on `branch` (created or reset at HEAD) and force-pushes it (Baton owns its PR branches:
   * a rerun replaces the branch with a fresh commit on the current base). On failure the work tree is reset;
   * either way the clone ends on `base` again. Returns the commit.
   */
  async commitOnBranch(branch: string, base: string, message: string, edits: FileEdit[], progress: (message: string) => void): Promise<string> {
    const start = await this.head();
    progress(`committing on ${branch}`);
    await this.createBranch(branch);
    try {
      const commit = await this.commit(message, await this.writeEdits(edits));
      progress(`pushing ${branch}`);
      await this.push(branch, { force: true });
      return commit;
    } catch (e) {
      await this.resetHard(start).catch(() => undefined); // no half-written edits left in the work tree
      throw e;
    } finally {
      await this.checkout(base);
    }
  }

  /** True when `ancestor` is `commit` or one of its ancestors (false also when either is unknown here). */
  async isAncestor(ancestor: string, commit: string): Promise<boolean> {
    // Not `merge-base --is-ancestor`: it answers by exit code alone, which simple-git does not report.
    try {
      const [a, base] = await Promise.all([this.head(ancestor), this.run(["merge-base", ancestor, commit], "merge-base")]);
      return base.trim() === a;
    } catch {
      return false;
    }
  }

  /** The full message of one commit. */
  async message(sha: string): Promise<string> {
    return this.run(["log", "-1", "--format=%B", sha], "log");
  }

  /** Files under `dir` at a commit. */
  async listFiles(sha: string, dir: string): Promise<string[]> {
    return (await this.run(["ls-tree", "-r", "--name-only", sha, "--", dir], "ls-tree")).split("\n").filter(Boolean);
  }

  /** Files under `dir` at a commit with their blob ids. */
  async treeBlobs(sha: string, dir: string): Promise<Array<{ path: string; oid: string }>> {
    const out = await this.run(["ls-tree", "-r", sha, "--", dir], "ls-tree");
    return out.split("\n").filter(Boolean).flatMap((line) => {
      const m = /^\d+ blob ([0-9a-f]+)\t(.+)$/.exec(line);
      return m?.[1] && m[2] ? [{ oid: m[1], path: m[2] }] : [];
    });
  }

  async blob(oid: string): Promise<string> {
    return this.run(["cat-file", "blob", oid], "cat-file");
  }

  /**
   * `git revert --no-edit --no-commit` (a merge commit is reverted against its first parent, `-m 1`: the
   * base branch side); on conflict aborts and returns the conflicting files.
   */
  async revertNoCommit(sha: string, options: { merge?: boolean } = {}): Promise<{ ok: true } | { ok: false; conflicts: string[] }> {
    try {
      await this.git.raw(["revert", "--no-edit", "--no-commit", ...(options.merge ? ["-m", "1"] : []), sha]);
      return { ok: true };
    } catch (e) {
      const conflicts = (await this.run(["diff", "--name-only", "--diff-filter=U"], "diff")).split("\n").filter(Boolean);
      await this.git.raw(["revert", "--abort"]).catch(() => undefined);
      if (conflicts.length === 0) throw gitError(e, "revert");
      return { ok: false, conflicts };
    }
  }

  /** Puts every file outside `keep` (paths or folders) back as it is at `ref`, in the index and the work tree. */
  async restoreOutside(ref: string, keep: string[]): Promise<void> {
    const inside = (file: string) => keep.some((k) => file === k || file.startsWith(`${k.replace(/\/+$/, "")}/`));
    const changed = (await this.run(["diff", "--cached", "--name-only", "--no-renames", ref], "diff")).split("\n").filter((f) => f && !inside(f));
    if (changed.length > 0) await this.run(["restore", "--quiet", `--source=${ref}`, "--staged", "--worktree", "--", ...changed], "restore");
  }

  async resetHard(ref: string): Promise<void> {
    await this.run(["reset", "--quiet", "--hard", ref], "reset --hard");
  }

  /** `git diff a b -- paths` (local only). */
  async diff(a: string, b: string, paths: string[] = []): Promise<string> {
    return this.run(["diff", a, b, "--", ...paths], "diff");
  }

  /** Repo-relative paths of the files that differ between two commits. */
  async changedFiles(a: string, b: string): Promise<string[]> {
    return (await this.run(["diff", "--name-only", "--no-renames", a, b], "diff")).split("\n").filter(Boolean);
  }

}

function isRejection(e: unknown): boolean {
  const text = e instanceof Error ? e.message : String(e);
  // "cannot lock ref … but expected …": another push updated the branch between our ref check and the
  // server's update; the same race as a non-fast-forward rejection, reported by the server side.
  // Commit ids are removed before looking for "403": a sha like c4030ab is not an HTTP status.
  return /\[rejected\]|non-fast-forward|fetch first|failed to push some refs|cannot lock ref|failed to update ref/i.test(text) && !/protected|permission|denied|\b403\b/i.test(text.replace(/\b[0-9a-f]{7,40}\b/g, ""));
}

/**
 * Opens a clone for a change that will be pushed: on its current branch, clean, GitHub connected first
 * when the change needs a PR (so a missing token fails before any network call), and the base branch
 * fast-forwarded to the remote's so plans start from what is merged.
 */
export async function prepareClone<G>(repo: string, options: {
  github?: (remoteUrl: string | undefined) => G;
  /** When set, a PR is needed: the error to raise without GitHub. */
  needGitHub?: BatonError;
  progress: (message: string) => void;
}): Promise<{ ws: GitWorkspace; base: string; github?: G }> {
  const ws = await GitWorkspace.open(repo);
  const base = await ws.currentBranch();
  await ws.ensureClean();
  let github: G | undefined;
  if (options.needGitHub) {
    github = options.github?.(await ws.remoteUrl());
    if (!github) throw options.needGitHub;
  }

  options.progress(`fetching ${base}`);
  await ws.syncBase(base);
  return { ws, base, ...(github ? { github } : {}) };
}
