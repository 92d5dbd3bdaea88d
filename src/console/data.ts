/**
 * Gathers the console's inputs from the same functions the CLI uses (`baton status`, `baton history`)
 * and shapes them with board.ts. Nothing here is console-specific logic.
 */
import { findEnvironment, loadPipeline } from "../config/pipeline.js";
import type { GitHubApi } from "../github/api.js";
import { GitWorkspace } from "../promote/git-workspace.js";
import { histories, history, type HistoryEntry } from "../promote/history.js";
import { status } from "../promote/status.js";
import type { ClusterRead } from "../promote/cluster-status.js";
import { LABELS } from "../promote/naming.js";
import { POLICY_CONTEXT } from "../promote/promote.js";
import { boardModel, timelineModel, type Board, type TimelineEntry } from "./board.js";
import { clusterPart, NO_KUBECONFIG, releaseView, type ClusterPart, type ReleaseView } from "./environment.js";
import type { EnvironmentObject } from "../agent/environment.js";
import type { KubeObject } from "../config/objects.js";
import { BatonError, BatonErrors } from "../errors.js";
import { renderForApply } from "../release/render.js";

/** How far back the board looks for the commit that last changed each image. */
const BOARD_HISTORY = 50;

export interface ConsoleSources {
  repo: string;
  /** The agent's Environment objects from each cluster given (never throws: a cluster that fails is named in `clusters`). */
  cluster?: () => Promise<ClusterRead>;
  /** GitHub for open PRs and deployments, when a token is set (undefined: repo only). */
  github?: () => Promise<GitHubApi | undefined>;
  /** The Environment objects deploying a folder, with their Events (with a kubeconfig): the environment page. */
  environmentDetail?: (folder: string) => Promise<Array<{ environment: EnvironmentObject; events: KubeObject[] }>>;
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
  /** Progressive delivery from git (baton.yaml + release.yaml): phase, steps and weights. */
  release?: ReleaseView;
  /** Why the folder does not render (the history still shows). */
  renderError?: string;
  /** The agent's view: conditions, inventory, Events; or what is missing and how to add it. */
  cluster: ClusterPart;
  timeline: TimelineEntry[];
}

async function clusterOf(sources: ConsoleSources, folder: string): Promise<ClusterPart> {
  if (!sources.environmentDetail) return NO_KUBECONFIG;
  try {
    return clusterPart(folder, await sources.environmentDetail(folder));
  } catch (e) {
    // The cluster being unreachable must not hide the history from git: say so in the cluster part.
    return { state: "failed", message: `cannot read the cluster: ${e instanceof Error ? e.message.split("\n")[0] : String(e)}`, hint: "check the kubeconfig's current context and that it may list environments.baton.dev and events" };
  }
}

export async function loadEnvironment(sources: ConsoleSources, name: string, limit = 100): Promise<EnvironmentPage> {
  const pipeline = await loadPipeline(sources.repo);
  const env = findEnvironment(pipeline, name);
  const { remote } = await clone(sources.repo);
  const [timeline, cluster] = await Promise.all([history(sources.repo, name, { limit }), clusterOf(sources, env.path)]);
  const page: EnvironmentPage = { name: env.name, path: env.path, cluster, timeline: timelineModel(env.name, timeline, remote) };
  if (env.namespace) page.namespace = env.namespace;
  if (env.promoteFrom) page.promoteFrom = env.promoteFrom;
  if (env.strategy) {
    try {
      const { release } = await renderForApply(sources.repo, env, { envIndex: pipeline.environments.indexOf(env), pipeline });
      if (release) page.release = releaseView(env.strategy, release.state);
    } catch (e) {
      if (!(e instanceof BatonError) && !(e instanceof BatonErrors)) throw e;
      page.renderError = e.message.split("\n")[0] ?? "cannot render";
    }
  }
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
