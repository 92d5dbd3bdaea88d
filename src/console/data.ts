/**
 * Gathers the console's inputs from the same functions the CLI uses (`baton status`, `baton history`)
 * and shapes them with board.ts. Nothing here is console-specific logic.
 */
import { findEnvironment, loadPipeline } from "../config/pipeline.js";
import type { GitHubApi } from "../github/api.js";
import { GitWorkspace } from "../promote/git-workspace.js";
import { histories, history, type HistoryEntry } from "../promote/history.js";
import { status, type ClusterEnvironment } from "../promote/status.js";
import { LABELS } from "../promote/naming.js";
import { POLICY_CONTEXT } from "../promote/promote.js";
import { boardModel, timelineModel, type Board, type TimelineEntry } from "./board.js";

/** How far back the board looks for the commit that last changed each image. */
const BOARD_HISTORY = 50;

export interface ConsoleSources {
  repo: string;
  /** The agent's Environment objects, when a kubeconfig was given. */
  cluster?: () => Promise<ClusterEnvironment[]>;
  /** GitHub for open PRs and deployments, when a token is set (undefined: repo only). */
  github?: () => Promise<GitHubApi | undefined>;
}

async function clone(repo: string): Promise<{ revision: string; remote?: string }> {
  const ws = await GitWorkspace.open(repo);
  const remote = await ws.remoteUrl();
  return { revision: await ws.head(), ...(remote ? { remote } : {}) };
}

/** Throws the pipeline's BatonError(s) when baton.yaml is broken: the page shows them as `baton validate` does. */
export async function loadBoard(sources: ConsoleSources): Promise<Board> {
  const pipeline = await loadPipeline(sources.repo);
  const { revision, remote } = await clone(sources.repo);
  const report = await status(sources.repo, sources.github, sources.cluster);
  // An environment that does not render has no history either; the board says why in its column.
  const read = await histories(sources.repo, pipeline.environments, { limit: BOARD_HISTORY });
  const byEnv: Record<string, HistoryEntry[]> = {};
  for (const [name, entries] of read) byEnv[name] = Array.isArray(entries) ? entries : [];
  return boardModel({ revision, pipeline: pipeline.environments, status: report, histories: byEnv, ...(remote ? { remote } : {}) });
}

export interface EnvironmentPage {
  name: string;
  path: string;
  namespace?: string;
  promoteFrom?: string;
  timeline: TimelineEntry[];
}

export async function loadEnvironment(sources: ConsoleSources, name: string, limit = 100): Promise<EnvironmentPage> {
  const env = findEnvironment(await loadPipeline(sources.repo), name);
  const { remote } = await clone(sources.repo);
  const page: EnvironmentPage = { name: env.name, path: env.path, timeline: timelineModel(env.name, await history(sources.repo, name, { limit }), remote) };
  if (env.namespace) page.namespace = env.namespace;
  if (env.promoteFrom) page.promoteFrom = env.promoteFrom;
  return page;
}

export interface PromotionRow {
  number: number;
  url: string;
  title: string;
  /** promotion, rollback, pin or release (Baton's labels). */
  kind: string;
  environment?: string;
  head: string;
  /** The `baton/policy` status on the PR's head (soak, window, approvals, order), when Baton has set one. */
  policy?: { state: string; description: string };
}

/**
 * Open PRs Baton opened (label `baton`) with their `baton/policy` state: what the promotions page lists.
 * Without GitHub (no token) undefined: the page says so.
 */
export async function loadPromotions(sources: ConsoleSources): Promise<PromotionRow[] | undefined> {
  const api = await sources.github?.();
  if (!api) return undefined;
  const pulls = await api.listOpenPulls(LABELS.baton);
  return Promise.all(pulls.map(async (p): Promise<PromotionRow> => {
    const env = p.labels.find((l) => l.startsWith("env:"))?.slice(4);
    const kind = [LABELS.promotion, LABELS.rollback, LABELS.pin, LABELS.release].find((l) => p.labels.includes(l)) ?? "other";
    const policy = p.headSha ? await api.commitStatus(p.headSha, POLICY_CONTEXT) : undefined;
    return { number: p.number, url: p.url, title: p.title, kind, head: p.head, ...(env ? { environment: env } : {}), ...(policy ? { policy } : {}) };
  }));
}
