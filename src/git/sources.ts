/**
 * Fetches shared by Environments. All Environments that follow one repository and branch with the same
 * credentials are one *source*: they share one remote-head check per freshness window (concurrent checks
 * join the request in flight; after a push, a checkout that needs a fresher head than any known fetches
 * straight away, the fetch being the check), one fetch per new revision, and one read-only checkout per revision — a
 * directory named by the commit, written once under a temporary name and renamed into place, so a reader
 * never sees a half-written tree and a newer revision never changes files under an older reconcile.
 * Git network operations across all sources run at most `concurrency` at a time (Bottleneck, which the
 * GitHub client already uses), so 200 new Environments do not open 200 clones at once.
 *
 * Each fetch adds a pack to the source's gitdir, and isomorphic-git never repacks: a gitdir of hundreds of packs
 * makes every object lookup try hundreds of pack indexes. So once the gitdir holds `maxPacks` packs, the next
 * new revision is fetched into a new gitdir from nothing (one shallow fetch of the head, no extra request)
 * and fetches go there from then on. A checkout reads its commit through the gitdir it was written from (its
 * `.git` file names it), so an older gitdir stays until no checkout on disk names it: a reconcile reading
 * an older revision never loses its objects.
 *
 * Credentials are part of a source's identity: an Environment never reads a repository through another
 * Environment's token (a tenant without access would otherwise see a private repository's files).
 * A failed head check is shared like a successful one: a run that may use an answer of that age gets the
 * failure instead of asking a failing server again (the agent's poller asks once per interval).
 */
import { createHash, randomBytes } from "node:crypto";
import { promises as fs } from "node:fs";
import path from "node:path";
import Bottleneck from "bottleneck";
import { reaches, type Reach } from "./ancestry.js";
import { checkoutFromGitdir, deepenGitdir, fetchToGitdir, remoteHead, type FetchOptions, type FetchResult, type GitAuth } from "./fetch.js";

export interface SourceRef {
  url: string;
  branch: string;
  auth?: GitAuth;
}

export interface SourceFetchOptions extends FetchOptions {
  /**
   * How old a remote head may be: a head seen by a request that started at most this long ago is reused.
   * 0 (the default) always asks the server (a webhook push must see the pushed commit).
   */
  maxAgeMs?: number;
  /**
   * The caller knows the branch moved (a push webhook): with no fresh-enough head known, fetch at once (the
   * fetch learns the head) instead of checking the head first. Not for polling: a fetch that finds nothing
   * new costs a full ref advertisement (protocol v1, every branch and tag), where a head check lists one branch.
   */
  expectNewHead?: boolean;
}

/** A checkout in use; `release()` lets the cleanup remove it once newer revisions replace it. */
export interface SharedCheckout extends FetchResult {
  release(): void;
}

export interface GitSourcesOptions {
  /** Git network operations (ls-remote, fetch) in flight at once, across all sources. */
  concurrency: number;
  /** Revisions kept on disk per source besides those in use (the newest ones). */
  keepRevisions?: number;
  /** Packs a source's gitdir may hold before the next new revision is fetched into a new gitdir (default 20). */
  maxPacks?: number;
  now?: () => number;
  /** Counts each git network operation (metrics, tests). */
  onOperation?: (operation: "ls-remote" | "fetch") => void;
  /** A source's remote head moved (seen by any Environment's check): the other Environments can follow at once. */
  onNewRevision?: (source: { url: string; branch: string; key: string }, revision: string) => void;
}

interface Source {
  key: string;
  root: string;
  /** The gitdir fetches go into; found on disk (the newest generation) by the first git operation. */
  gitdir?: string;
  head?: { oid: string; seenAt: number };
  checking?: { promise: Promise<string>; startedAt: number; signal?: AbortSignal };
  /** When the newest head check or fetch started, whatever its outcome. */
  askedAt?: number;
  /** The newest head check that failed (not cancelled), shared with runs that may use an answer that old. */
  failed?: { error: unknown; startedAt: number };
  /** Serialises fetch + checkout in this source's gitdir (isomorphic-git keeps one index there). */
  lock: Promise<unknown>;
  /** Checkouts on disk (by commit), newest last, with their readers. */
  revisions: Map<string, { users: number }>;
  /** Checkouts being written, by the head that asked for them. */
  pending: Map<string, Promise<string>>;
}

const COMMIT = /^[0-9a-f]{40}$/;
/** A source's gitdirs: `.gitdir` (before gitdirs were started afresh), then `.gitdir.1`, `.gitdir.2`… */
const GITDIR = /^\.gitdir(?:\.(\d+))?$/;
/**
 * The default of `maxPacks`. Measured with `npm run bench git-packs` (200 commits one by one): the time of
 * a fetch and checkout grows with the packs (README, Shared fetches); a fresh gitdir costs one download of
 * the whole head, so this trades one such download per 20 revisions against lookups in at most 20 packs.
 */
const MAX_PACKS = 20;
/** How much history the ancestry check fetches, step by step, before it gives up (descends()). */
export const DEEPEN_STEPS = [50, 500];

export class GitSources {
  private readonly sources = new Map<string, Source>();
  private readonly limiter: Bottleneck;
  private readonly now: () => number;

  constructor(private readonly cacheDir: string, private readonly options: GitSourcesOptions) {
    this.limiter = new Bottleneck({ maxConcurrent: options.concurrency });
    this.now = options.now ?? (() => performance.now());
  }

  /** The commit the remote branch points at, at most `maxAgeMs` old; concurrent asks share one request. */
  async head(ref: SourceRef, options: SourceFetchOptions = {}): Promise<string> {
    const source = this.source(ref);
    return this.known(source, options) ?? this.check(ref, source, options, () => this.limiter.schedule(() => {
      this.options.onOperation?.("ls-remote");
      return remoteHead(ref.url, ref.branch, ref.auth, options);
    }));
  }

  /**
   * A head (or a failed check) at most `maxAgeMs` old, or a check in flight that started late enough to
   * give one (not one cancelled with another leadership term); undefined when the server must be asked.
   */
  private known(source: Source, options: SourceFetchOptions): Promise<string> | undefined {
    const oldest = this.now() - (options.maxAgeMs ?? 0);
    const newest = source.head?.seenAt ?? -Infinity;
    if (options.maxAgeMs && source.failed && source.failed.startedAt >= oldest && source.failed.startedAt > newest) return Promise.reject(source.failed.error);
    if (source.head && source.head.seenAt >= oldest && options.maxAgeMs) return Promise.resolve(source.head.oid);
    const inFlight = source.checking;
    if (inFlight && inFlight.startedAt >= oldest && !inFlight.signal?.aborted) return inFlight.promise;
    return undefined;
  }

  /**
   * Asks the server for the head with `ask` (an ls-remote, or a fetch that learns the head as it goes):
   * callers that may use an answer this fresh join it, and a failure is kept like an answer.
   */
  private check(ref: SourceRef, source: Source, options: SourceFetchOptions, ask: () => Promise<string>): Promise<string> {
    const startedAt = this.now();
    source.askedAt = startedAt;
    const promise = ask().then((oid) => {
      this.observe(ref, source, oid, startedAt);
      return oid;
    }, (e: unknown) => {
      // A request cancelled with its leadership term says nothing about the server.
      if (!options.signal?.aborted && !(source.failed && source.failed.startedAt > startedAt)) source.failed = { error: e, startedAt };
      throw e;
    }).finally(() => {
      if (source.checking?.promise === promise) source.checking = undefined;
    });
    source.checking = { promise, startedAt, ...(options.signal ? { signal: options.signal } : {}) };
    return promise;
  }

  /** The identity of a source (repository, branch, credentials), as `onNewRevision` reports it. */
  keyOf(ref: SourceRef): string {
    return this.source(ref).key;
  }

  /** When the newest head check or fetch of the source started (any caller, any outcome); undefined before the first. */
  lastCheckAt(ref: SourceRef): number | undefined {
    return this.sources.get(this.sourceKey(ref))?.askedAt;
  }

  /**
   * A read-only checkout of the branch head (see head() for `maxAgeMs`). The directory stays until the
   * caller releases it and newer revisions replace it; the files must not be changed.
   */
  async checkout(ref: SourceRef, options: SourceFetchOptions = {}): Promise<SharedCheckout> {
    const source = this.source(ref);
    let fetched = false;
    // After a push (expectNewHead), with no head fresh enough known and no check of the source in flight,
    // the fetch is the check. It learns the head itself, so a push costs one git round trip (ref
    // advertisement, then the pack) instead of a head check followed by a fetch; checkouts that may use
    // its answer join it. While a check that is too old for this caller is in flight, a head check of its
    // own is cheaper than a second fetch queued behind the first.
    const wanted = await (this.known(source, options) ?? (source.checking || !options.expectNewHead ? this.head(ref, options) : this.check(ref, source, options, async () => {
      const written = await this.write(ref, source, undefined, options);
      fetched = written.wrote;
      return written.oid;
    })));
    let revision = wanted;
    if (!source.revisions.has(wanted)) {
      let writing = source.pending.get(wanted);
      if (!writing) {
        fetched = true;
        writing = this.write(ref, source, wanted, options).then((w) => w.oid);
        source.pending.set(wanted, writing);
        void writing.catch(() => undefined).finally(() => source.pending.delete(wanted));
      }
      revision = await writing;
    }
    // Counted before any await: the cleanup never removes a checkout between its lookup and its use.
    const entry = source.revisions.get(revision) ?? { users: 0 };
    source.revisions.set(revision, entry);
    entry.users++;
    let released = false;
    return {
      dir: path.join(source.root, revision), revision, fetched,
      release: () => {
        if (released) return;
        released = true;
        entry.users--;
      },
    };
  }

  /**
   * Whether `head` (a commit a checkout of this source holds) descends from `ancestor`, reading history
   * the gitdir already has and, where it ends, fetching more: `deepen` commits at a time, as often as the
   * list says (each a git network operation). `unknown` when the ancestor was not found within that depth.
   */
  async descends(ref: SourceRef, head: string, ancestor: string, options: FetchOptions = {}, deepen: number[] = DEEPEN_STEPS): Promise<Reach> {
    const source = this.source(ref);
    const run = async (): Promise<Reach> => {
      const gitdir = await this.gitdirOf(source);
      let reach = await reaches(gitdir, head, ancestor);
      for (const depth of deepen) {
        if (reach !== "unknown") break;
        await this.limiter.schedule(() => {
          this.options.onOperation?.("fetch");
          return deepenGitdir(ref.url, ref.branch, gitdir, depth, ref.auth, options);
        });
        reach = await reaches(gitdir, head, ancestor);
      }
      return reach;
    };
    // Under the source's lock: a deepening fetch writes the same gitdir (and shallow file) as a fetch.
    const result = source.lock.then(run, run);
    source.lock = result.catch(() => undefined);
    return result;
  }

  /**
   * Fetches and writes the checkout of the branch head (the head may have moved past `wanted`, which is
   * undefined when the fetch is the head check); returns its commit and whether this call wrote it.
   */
  private write(ref: SourceRef, source: Source, wanted: string | undefined, options: FetchOptions): Promise<{ oid: string; wrote: boolean }> {
    const run = async (): Promise<{ oid: string; wrote: boolean }> => {
      // A checkout written by an earlier agent process (same cache directory) is reused as it is.
      if (wanted !== undefined && (await exists(path.join(source.root, wanted)))) return { oid: await this.keep(source, wanted), wrote: false };
      const startedAt = this.now();
      source.askedAt = startedAt;
      const current = await this.gitdirOf(source);
      const fresh = (await packsIn(current)) >= (this.options.maxPacks ?? MAX_PACKS) ? nextGitdir(current) : undefined;
      const { oid, gitdir } = await this.limiter.schedule(() => {
        this.options.onOperation?.("fetch");
        return fetchToGitdir(ref.url, ref.branch, current, ref.auth, options, fresh);
      }).catch(async (e: unknown) => {
        if (fresh) await fs.rm(fresh, { recursive: true, force: true });
        throw e;
      });
      source.gitdir = gitdir;
      this.observe(ref, source, oid, startedAt);
      const dir = path.join(source.root, oid);
      let wrote = false;
      if (!source.revisions.has(oid) && !(await exists(dir))) {
        wrote = true;
        const tmp = path.join(source.root, `.tmp-${oid}-${randomBytes(4).toString("hex")}`);
        try {
          await checkoutFromGitdir(gitdir, oid, tmp);
          // Another agent process sharing this cache may have written the same commit meanwhile: same files.
          await fs.rename(tmp, dir).catch(async (e: unknown) => {
            if (!(await exists(dir))) throw e;
          });
        } finally {
          await fs.rm(tmp, { recursive: true, force: true });
        }
      }
      return { oid: await this.keep(source, oid), wrote };
    };
    const result = source.lock.then(run, run);
    source.lock = result.catch(() => undefined);
    return result;
  }

  /**
   * Records a checkout on disk as the newest and removes old ones nobody reads (beyond keepRevisions), then
   * the gitdirs that neither fetches nor any checkout left on disk read. Under the source's lock.
   */
  private async keep(source: Source, oid: string): Promise<string> {
    const entry = source.revisions.get(oid) ?? { users: 0 };
    source.revisions.delete(oid);
    source.revisions.set(oid, entry);
    const keep = new Set([...source.revisions.keys()].slice(-(this.options.keepRevisions ?? 3)));
    const read = new Set([await this.gitdirOf(source)]);
    for (const name of await fs.readdir(source.root).catch(() => [] as string[])) {
      if (!COMMIT.test(name)) continue;
      if (keep.has(name) || (source.revisions.get(name)?.users ?? 0) > 0) {
        const link = await fs.readFile(path.join(source.root, name, ".git"), "utf8").catch(() => "");
        if (link.startsWith("gitdir: ")) read.add(path.resolve(link.slice("gitdir: ".length).trim()));
        continue;
      }
      source.revisions.delete(name);
      await fs.rm(path.join(source.root, name), { recursive: true, force: true });
    }
    for (const name of await fs.readdir(source.root).catch(() => [] as string[])) {
      if (GITDIR.test(name) && !read.has(path.resolve(source.root, name))) await fs.rm(path.join(source.root, name), { recursive: true, force: true });
    }
    return oid;
  }

  /** The gitdir fetches go into: the newest on disk (an earlier agent process may have started one), or a first one. */
  private async gitdirOf(source: Source): Promise<string> {
    if (source.gitdir === undefined) {
      const generations = (await fs.readdir(source.root).catch(() => [] as string[])).map((name) => GITDIR.exec(name)).filter((m): m is RegExpExecArray => m !== null);
      const newest = generations.sort((a, b) => Number(b[1] ?? 0) - Number(a[1] ?? 0))[0];
      source.gitdir = path.resolve(source.root, newest?.[0] ?? ".gitdir.1");
    }
    return source.gitdir;
  }

  private observe(ref: SourceRef, source: Source, oid: string, seenAt: number): void {
    const before = source.head;
    if (before && before.seenAt > seenAt) return; // an answer to an older request says nothing new
    source.head = { oid, seenAt };
    if (before && before.oid !== oid) this.options.onNewRevision?.({ url: ref.url, branch: ref.branch, key: source.key }, oid);
  }

  private sourceKey(ref: SourceRef): string {
    const a = ref.auth ?? {};
    return createHash("sha256").update(JSON.stringify([ref.url, ref.branch, a.username ?? null, a.password ?? null, a.token ?? null])).digest("hex").slice(0, 32);
  }

  private source(ref: SourceRef): Source {
    const key = this.sourceKey(ref);
    let source = this.sources.get(key);
    if (!source) {
      const root = path.join(this.cacheDir, "sources", key);
      source = { key, root, lock: Promise.resolve(), revisions: new Map(), pending: new Map() };
      this.sources.set(key, source);
    }
    return source;
  }
}

const exists = (p: string): Promise<boolean> => fs.stat(p).then(() => true, () => false);

/** Packs in a gitdir (one per fetch: isomorphic-git never repacks). */
export async function packsIn(gitdir: string): Promise<number> {
  return (await fs.readdir(path.join(gitdir, "objects", "pack")).catch(() => [] as string[])).filter((name) => name.endsWith(".pack")).length;
}

/** The gitdir after `gitdir` (`.gitdir` → `.gitdir.1`, `.gitdir.3` → `.gitdir.4`). */
function nextGitdir(gitdir: string): string {
  const generation = Number(GITDIR.exec(path.basename(gitdir))?.[1] ?? 0);
  return path.join(path.dirname(gitdir), `.gitdir.${generation + 1}`);
}
