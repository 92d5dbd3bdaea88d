/**
 * The console's data, shaped purely: a board (environments in pipeline order × images) from what
 * `baton status` and `baton history` already compute, and an environment's timeline. The server only
 * gathers the inputs; everything the page shows is decided here, so it is unit-tested without a browser.
 */
import { canonicalRepository, imageShortName, shortDigest } from "../config/image-ref.js";
import type { HistoryEntry } from "../promote/history.js";
import type { EnvironmentReport, StatusReport } from "../promote/status.js";

/** The commit that last changed one image in one environment. */
export interface LastChange {
  commit: string;
  author: string;
  time: string;
  kind: HistoryEntry["kind"];
  subject: string;
  pr?: number;
  prUrl?: string;
}

export interface BoardCell {
  digest?: string;
  /** 7 hex of the digest, as the CLI prints it. */
  short: string;
  tag?: string;
  rejected: boolean;
  lastChange?: LastChange;
}

export interface BoardEnvironment {
  name: string;
  path: string;
  /** Why this environment cannot be shown (it does not render); the others still are. */
  error?: string;
  release?: EnvironmentReport["release"];
  /** The agent's view (with a kubeconfig): readiness, applied revision, reverted drift. */
  cluster?: EnvironmentReport["cluster"];
  /** From GitHub (with a token): the latest deployment the agent recorded, and open promotion/rollback PRs. */
  deployment?: EnvironmentReport["deployment"];
  openPulls: EnvironmentReport["openPulls"];
  /** canonical repository → cell; an image the environment does not run has no cell. */
  cells: Record<string, BoardCell>;
  /** Its source runs other digests: the CLI command that opens the promotion PR (the console has no actions yet). */
  promote?: { from: string; images: string[]; command: string };
}

export interface BoardImage {
  /** Canonical repository: the key of the cells. */
  key: string;
  repository: string;
  name: string;
}

export interface Board {
  /** The clone's HEAD: what the board was computed from. */
  revision: string;
  /** Whether GitHub was asked (a token was set) and answered; its PR and deployment columns depend on it. */
  github: StatusReport["github"];
  environments: BoardEnvironment[];
  images: BoardImage[];
  /** The clusters read (with a kubeconfig): one that could not be read says why; the others' health still shows. */
  clusters?: StatusReport["clusters"];
}

export interface TimelineEntry extends LastChange {
  from?: string;
  /** For every entry but the newest: the CLI command that returns the environment to this commit's pins. */
  rollbackCommand?: string;
  digests: Array<{ repository: string; short: string }>;
  changes: Array<{ repository: string; from: string; to: string }>;
}

/**
 * The web address of a pull request, from the clone's remote: GitHub's (or an Enterprise server's) web
 * host and the repository path. Credentials and ports of the remote are never part of it.
 */
export function pullRequestUrl(remote: string | undefined, number: number): string | undefined {
  if (!remote) return undefined;
  const scp = /^[\w.-]+@([\w.-]+):\/?([\w.-]+)\/([\w.-]+?)(?:\.git)?\/?$/.exec(remote);
  if (scp) return `https://${scp[1]}/${scp[2]}/${scp[3]}/pull/${number}`;
  let url: URL;
  try {
    url = new URL(remote);
  } catch {
    return undefined;
  }
  const segments = url.pathname.replace(/\/+$/, "").replace(/\.git$/, "").split("/").filter(Boolean);
  if (segments.length < 2 || !["https:", "http:", "ssh:"].includes(url.protocol)) return undefined;
  const scheme = url.protocol === "http:" ? "http" : "https";
  const host = url.protocol === "ssh:" ? url.hostname : url.host;
  return `${scheme}://${host}/${segments.join("/")}/pull/${number}`;
}

function lastChangeOf(entry: HistoryEntry, remote: string | undefined): LastChange {
  const out: LastChange = { commit: entry.commit, author: entry.author, time: entry.time, kind: entry.kind, subject: entry.subject };
  if (entry.pr !== undefined) {
    out.pr = entry.pr;
    const url = pullRequestUrl(remote, entry.pr);
    if (url) out.prUrl = url;
  }
  return out;
}

/** The newest history entry that changed `repository` (history is newest first); the creation counts. */
function lastChangeFor(history: HistoryEntry[], repository: string): HistoryEntry | undefined {
  const key = canonicalRepository(repository);
  return history.find((h) => h.changes.some((c) => canonicalRepository(c.repository) === key));
}

export function boardModel(input: {
  revision: string;
  /** Pipeline order, with each environment's folder and source. */
  pipeline: Array<{ name: string; path: string; promoteFrom?: string }>;
  status: StatusReport;
  /** Environment name → its history, newest first. */
  histories: Record<string, HistoryEntry[]>;
  remote?: string;
}): Board {
  const images = new Map<string, BoardImage>();
  const environments = input.pipeline.map((spec): BoardEnvironment => {
    const row = input.status.environments.find((e) => e.name === spec.name);
    const env: BoardEnvironment = { name: spec.name, path: spec.path, cells: {}, openPulls: [] };
    if (!row) return { ...env, error: "not in the status report" };
    if (row.error) env.error = row.error;
    if (row.release) env.release = row.release;
    if (row.cluster) env.cluster = row.cluster;
    if (row.deployment) env.deployment = row.deployment;
    env.openPulls = row.openPulls;
    const history = input.histories[spec.name] ?? [];
    for (const image of row.images) {
      const key = canonicalRepository(image.repository);
      if (!images.has(key)) images.set(key, { key, repository: image.repository, name: imageShortName(image.repository) });
      const cell: BoardCell = { short: shortDigest(image.digest), rejected: image.rejected };
      if (image.digest) cell.digest = image.digest;
      if (image.tag) cell.tag = image.tag;
      const change = lastChangeFor(history, image.repository);
      if (change) cell.lastChange = lastChangeOf(change, input.remote);
      env.cells[key] = cell;
    }
    return env;
  });
  for (const [i, env] of environments.entries()) {
    const from = input.pipeline[i]?.promoteFrom;
    const source = environments.find((e) => e.name === from);
    if (!from || !source || source.error || env.error) continue;
    // Only images both run: a promotion never adds a workload to its target.
    const differ = Object.keys(env.cells).filter((key) => source.cells[key] && source.cells[key]?.digest !== env.cells[key]?.digest);
    if (differ.length > 0) env.promote = { from, images: differ.map((key) => images.get(key)?.name ?? key), command: `baton promote ${from} ${env.name}` };
  }
  const sorted = [...images.values()].sort((a, b) => a.name.localeCompare(b.name) || a.key.localeCompare(b.key));
  return { revision: input.revision, github: input.status.github, environments, images: sorted, ...(input.status.clusters ? { clusters: input.status.clusters } : {}) };
}

export function timelineModel(envName: string, history: HistoryEntry[], remote?: string): TimelineEntry[] {
  return history.map((entry, index) => {
    const out: TimelineEntry = {
      ...lastChangeOf(entry, remote),
      digests: entry.digests.map((d) => ({ repository: d.repository, short: shortDigest(d.digest) })),
      changes: entry.changes.map((c) => ({ repository: c.repository, from: shortDigest(c.from), to: shortDigest(c.to) })),
    };
    if (entry.from) out.from = entry.from;
    if (index > 0) out.rollbackCommand = `baton rollback ${envName} --to ${entry.commit.slice(0, 12)}`;
    return out;
  });
}
