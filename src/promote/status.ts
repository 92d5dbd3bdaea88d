/**
 * `baton status`: environment × image → digest (short) and tag from the repo, the rejected digests, and —
 * when a GitHub token is available — the open promotion PRs per environment.
 */
import { loadPipeline } from "../config/pipeline.js";
import { folderOverlapsByEnvironment } from "../config/boundaries.js";
import { chartPin } from "../config/edit-chart.js";
import { renderForApply } from "../release/render.js";
import { releasePhase } from "../release/describe.js";
import { BatonError, BatonErrors } from "../errors.js";
import type { GitHubApi } from "../github/api.js";
import { LABELS } from "./naming.js";
import { readRejectedFile } from "./promote.js";
import { destinationOf } from "./waves.js";
import type { ClusterRead, ClusterState } from "./cluster-status.js";

export type { ClusterEnvironment } from "./cluster-status.js";

export interface EnvironmentReport {
  name: string;
  /** A target of a stage: the stage and its wave. */
  stage?: string;
  wave?: number;
  /** Latest GitHub deployment of this environment (recorded by the agent). */
  deployment?: { sha: string; state: string; since: string };
  /** The agent's view, from the Environment object in the cluster (with --kubeconfig). */
  cluster?: { ready: string; revision?: string; message?: string; drift?: string[] };
  images: Array<{ repository: string; digest?: string; tag?: string; rejected: boolean }>;
  openPulls: Array<{ number: number; url: string; title: string }>;
  /** Progressive delivery, from git (baton.yaml + release.yaml): phase, candidate weight, step. */
  release?: { phase: string; weight: number; step?: number; steps: number; stableSlot: string };
  error?: string;
}

export interface StatusReport {
  environments: EnvironmentReport[];
  github: "ok" | "skipped" | "failed";
  githubError?: string;
  /** The clusters read (with --kubeconfig): each one that could not be read says why; the others still count. */
  clusters?: ClusterState[];
}

/** With `only`, just that environment, stage (every target) or target. */
export async function status(repo: string, github?: () => Promise<GitHubApi | undefined>, cluster?: () => Promise<ClusterRead>, only?: string): Promise<StatusReport> {
  const pipeline = await loadPipeline(repo);
  const rejected = await readRejectedFile(repo);
  const environments: EnvironmentReport[] = [];
  const selected = only === undefined ? pipeline.environments : destinationOf(pipeline, only).targets;
  // One look at the folders for all environments, not one per environment (50 environments: 50×50 folder walks).
  const overlaps = await folderOverlapsByEnvironment(repo, pipeline);
  for (const env of selected) {
    const row: EnvironmentReport = { name: env.name, images: [], openPulls: [], ...(env.stage ? { stage: env.stage, wave: env.wave ?? 1 } : {}) };
    try {
      const { pins, release } = await renderForApply(repo, env, { envIndex: pipeline.environments.indexOf(env), pipeline, overlaps });
      if (release) {
        const { state } = release;
        row.release = { phase: releasePhase(state), weight: state.weight, steps: state.steps.length, stableSlot: state.stableSlot, ...(state.step ? { step: state.step.index + 1 } : {}) };
      }
      row.images = [...pins.values()].sort((a, b) => a.repository.localeCompare(b.repository)).map((p) => ({
        repository: p.repository, ...(p.digest ? { digest: p.digest } : {}), ...(p.tag ? { tag: p.tag } : {}),
        rejected: (rejected[env.name] ?? []).some((r) => r.repository === p.repository && r.digest === p.digest),
      }));
      // An oci:// chart is listed with the images: its version as the tag, its digest as pinned in baton.yaml.
      const chart = chartPin(env);
      if (chart) row.images.push({ repository: chart.repository, ...(chart.digest ? { digest: chart.digest } : {}), tag: chart.tag ?? "", rejected: false });
    } catch (e) {
      // One broken environment must not hide the others' status.
      if (!(e instanceof BatonError) && !(e instanceof BatonErrors)) throw e;
      row.error = e.message.split("\n")[0] ?? "cannot render";
    }
    environments.push(row);
  }
  const report: StatusReport = { environments, github: "skipped" };
  if (cluster) {
    const { environments: live, clusters } = await cluster();
    report.clusters = clusters;
    for (const env of environments) {
      const spec = pipeline.environments.find((e) => e.name === env.name);
      const match = live.find((l) => spec && l.path.replace(/\/$/, "") === spec.path.replace(/\/$/, ""));
      if (match) env.cluster = { ready: match.ready, ...(match.revision ? { revision: match.revision } : {}), ...(match.message ? { message: match.message } : {}), ...(match.drift ? { drift: match.drift } : {}) };
    }
  }
  const api = await github?.();
  if (!api) return report;
  try {
    const pulls = await api.listOpenPulls(LABELS.promotion);
    for (const env of environments) {
      // A stage's wave PR (labels env:<stage>, wave:<n>) is shown on the targets it edits.
      const waveOf = (labels: string[]) => Number(labels.find((l) => l.startsWith("wave:"))?.slice(5));
      env.openPulls = pulls.filter((p) => p.labels.includes(LABELS.env(env.name)) || (env.stage !== undefined && p.labels.includes(LABELS.env(env.stage)) && waveOf(p.labels) === env.wave)).map((p) => ({ number: p.number, url: p.url, title: p.title }));
    }
    await Promise.all(environments.map(async (env) => {
      const latest = (await api.listDeployments(env.name))[0];
      const state = latest ? (await api.listDeploymentStatuses(latest.id))[0] : undefined;
      if (latest && state) env.deployment = { sha: latest.sha, state: state.state, since: state.createdAt };
    }));
    report.github = "ok";
  } catch (e) {
    report.github = "failed";
    report.githubError = e instanceof Error ? e.message : String(e);
  }
  return report;
}
