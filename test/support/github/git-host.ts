/**
 * The git side of the GitHub stand-in: it works on the test git server's bare repositories, so a merge
 * through the API is a real commit that Baton and the agent then fetch. Merges are computed without a
 * work tree (`git merge-tree --write-tree`, `commit-tree`, and a compare-and-swap `update-ref`), the way a
 * hosting service does it.
 */
import { execFile } from "node:child_process";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";

const exec = promisify(execFile);

export interface Identity {
  name: string;
  email: string;
  /** ISO date; default now. */
  date?: string;
}

export interface CommitInfo {
  sha: string;
  parents: string[];
  author: Identity;
  message: string;
}

/** GitHub's committer for web-flow merges. */
export const WEB_FLOW: Identity = { name: "GitHub", email: "noreply@github.com" };

export class MergeConflict extends Error {}

export class BareRepo {
  constructor(readonly dir: string) {}

  async git(args: string[], env: Record<string, string> = {}): Promise<string> {
    const { stdout } = await exec("git", ["-C", this.dir, ...args], { encoding: "utf8", env: { ...process.env, ...env } });
    return stdout;
  }

  /** Commits known to exist: a commit never leaves a test repository, so its sha needs one git call. */
  private readonly knownCommits = new Set<string>();

  /** A branch, tag or sha → commit sha; undefined when git does not know it. */
  async resolve(ref: string): Promise<string | undefined> {
    if (!/^[\w./-]+$/.test(ref) || ref.startsWith("-")) return undefined;
    if (this.knownCommits.has(ref)) return ref;
    const sha = await this.git(["rev-parse", "--verify", "--quiet", `${ref}^{commit}`]).then((s) => s.trim() || undefined, () => undefined);
    if (sha) this.knownCommits.add(sha);
    return sha;
  }

  /** Every branch → its commit, in one call. */
  async branches(): Promise<Map<string, string>> {
    const out = await this.git(["for-each-ref", "--format=%(refname:lstrip=2) %(objectname)", "refs/heads"]);
    return new Map(out.split("\n").filter(Boolean).map((l) => l.split(" ") as [string, string]));
  }

  async branchSha(branch: string): Promise<string | undefined> {
    // A pushed branch is a loose ref file (receive-pack writes it with a lock and a rename), read without
    // spawning git; anything else (packed refs, odd names) goes through rev-parse.
    if (!branch.split("/").some((part) => part === ".." || part === "." || part === "")) {
      const loose = await fs.readFile(path.join(this.dir, "refs/heads", branch), "utf8").catch(() => "");
      if (/^[0-9a-f]{40}\n?$/.test(loose)) return loose.trim();
    }
    return this.resolve(`refs/heads/${branch}`);
  }

  /** Commits on `head` not on `base`, oldest first (what a PR shows under "Commits"), in one git call. */
  async commitsBetween(base: string, head: string): Promise<CommitInfo[]> {
    const out = await this.git(["log", "--reverse", "--topo-order", "--format=%H%x1f%P%x1f%an%x1f%ae%x1f%aI%x1f%B%x1e", `${base}..${head}`]);
    return out.split("\x1e").map((r) => r.replace(/^\n/, "")).filter((r) => r.trim()).map((record) => {
      const [sha = "", parents = "", name = "", email = "", date = "", message = ""] = record.split("\x1f");
      return { sha, parents: parents.split(" ").filter(Boolean), author: { name, email, date }, message: message.replace(/\n+$/, "") };
    });
  }

  /** Files a PR changes: the diff from the merge base to the head (GitHub's three-dot diff). */
  async changedFiles(base: string, head: string): Promise<string[]> {
    return (await this.git(["diff", "--name-only", `${base}...${head}`])).split("\n").filter(Boolean);
  }

  async readFile(ref: string, file: string): Promise<string | undefined> {
    return this.git(["show", `${ref}:${file}`]).catch(() => undefined);
  }

  /** The tree of merging `theirs` into `ours`; throws MergeConflict. */
  async mergeTree(ours: string, theirs: string): Promise<string> {
    try {
      return (await this.git(["merge-tree", "--write-tree", ours, theirs])).split("\n")[0]?.trim() ?? "";
    } catch {
      throw new MergeConflict(`merging ${theirs.slice(0, 7)} into ${ours.slice(0, 7)} conflicts`);
    }
  }

  /**
   * The tree of applying commit `c`'s own change onto `onto` (a cherry-pick, as a rebase merge does), in a
   * scratch index so the bare repository is never touched; throws MergeConflict.
   */
  async cherryPickTree(c: CommitInfo, onto: string): Promise<string> {
    const scratch = await fs.mkdtemp(path.join(os.tmpdir(), "baton-gh-rebase-"));
    const env = { GIT_INDEX_FILE: path.join(scratch, "index") };
    try {
      await this.git(["read-tree", onto], env);
      const patch = path.join(scratch, "change.patch");
      await fs.writeFile(patch, await this.git(["diff", "--binary", c.parents[0] ?? "", c.sha]));
      if ((await fs.stat(patch)).size > 0) await this.git(["apply", "--cached", patch], env).catch(() => {
        throw new MergeConflict(`${c.sha.slice(0, 7)} does not apply onto ${onto.slice(0, 7)}`);
      });
      return (await this.git(["write-tree"], env)).trim();
    } finally {
      await fs.rm(scratch, { recursive: true, force: true });
    }
  }

  async commitTree(tree: string, parents: string[], message: string, author: Identity, committer: Identity = WEB_FLOW): Promise<string> {
    const env: Record<string, string> = {
      GIT_AUTHOR_NAME: author.name, GIT_AUTHOR_EMAIL: author.email, GIT_COMMITTER_NAME: committer.name, GIT_COMMITTER_EMAIL: committer.email,
      ...(author.date ? { GIT_AUTHOR_DATE: author.date } : {}),
    };
    return (await this.git(["commit-tree", tree, ...parents.flatMap((p) => ["-p", p]), "-m", message], env)).trim();
  }

  /** Moves `branch` from `expected` to `next`; false when someone pushed in between. */
  async updateBranch(branch: string, next: string, expected: string): Promise<boolean> {
    return this.git(["update-ref", `refs/heads/${branch}`, next, expected]).then(() => true, () => false);
  }

  /** The commits `merge_method` produces on `base` for a PR from `head`, oldest first (the last is the new tip). */
  async merge(method: "merge" | "squash" | "rebase", input: { base: string; head: string; mergeMessage: string; squashMessage: string; merger: Identity; prAuthor: Identity }): Promise<string[]> {
    const baseSha = await this.branchSha(input.base);
    const headSha = await this.branchSha(input.head);
    if (!baseSha || !headSha) throw new MergeConflict("a branch of the pull request no longer exists");
    let tip: string;
    const made: string[] = [];
    if (method === "merge") {
      tip = await this.commitTree(await this.mergeTree(baseSha, headSha), [baseSha, headSha], input.mergeMessage, input.merger);
    } else if (method === "squash") {
      tip = await this.commitTree(await this.mergeTree(baseSha, headSha), [baseSha], input.squashMessage, input.prAuthor);
    } else {
      // Rebase: each PR commit is replayed onto base with its author kept and GitHub as committer (new SHAs).
      tip = baseSha;
      for (const c of await this.commitsBetween(baseSha, headSha)) {
        if (c.parents.length > 1) throw new MergeConflict("rebase merges cannot replay merge commits");
        tip = await this.commitTree(await this.cherryPickTree(c, tip), [tip], c.message, c.author);
        made.push(tip);
      }
    }
    if (!(await this.updateBranch(input.base, tip, baseSha))) throw new MergeConflict(`${input.base} moved during the merge`);
    return method === "rebase" ? made : [tip];
  }
}
