/**
 * `baton policy`: re-evaluates every open promotion PR (soak, windows, order, rejected digests) and sets
 * its `baton/policy` commit status, so required status checks hold the merge until policy allows it.
 * With auto-promotion it also opens promotion PRs into `autoPromote: true` environments whose source is
 * healthy and soaked, and merges promotion PRs into `autoMerge: true` environments through GitHub once
 * policy allows them (branch protection still applies). Runs once (CI cron) or on a node-cron schedule inside `baton agent --promoter-repo`.
 */
import { loadPipeline, stageOf, type PipelineEnvironment, type Pipeline, type Stage } from "../config/pipeline.js";
import { planPromotion } from "../config/repo.js";
import type { GitHubApi } from "../github/api.js";
import { evaluatePolicy, type PolicyResult, type PolicyState } from "../policy/evaluate.js";
import { destinationOf, policyEnvironment, sourceEnvironment, waveBlockers, type Destination } from "./waves.js";
import { GitWorkspace, REMOTE } from "./git-workspace.js";
import { BatonError } from "../errors.js";
import { mergeBatonPull } from "./merge.js";
import { changeKind, LABELS } from "./naming.js";
import { POLICY_CONTEXT, promote, readRejectedFile, sourceHealthySince, type Progress } from "./promote.js";
import { sameRejection } from "./rejected.js";
import { parseBatonCommit } from "./trailers.js";
import type { RegistryClient } from "../registry/client.js";

export interface PolicyRunRequest {
  repo: string;
  github: GitHubApi;
  autoPromote?: boolean;
  now?: () => Date;
  progress?: Progress;
  /** Registry access for the signature check of auto-promotions into environments with `verify`. */
  registry?: RegistryClient;
}

export interface EvaluatedPull {
  pull: number;
  from?: string;
  to: string;
  sha: string;
  state: PolicyState;
  description: string;
}

export interface PolicyRunResult {
  evaluated: EvaluatedPull[];
  autoPromoted: Array<{ from: string; to: string; pull?: number; wave?: number }>;
  skipped: Array<{ to: string; reason: string }>;
  /** PRs into `autoMerge: true` environments merged through GitHub in this run. */
  merged: Array<{ pull: number; to: string; method: string; sha: string }>;
  /** PRs into `autoMerge: true` environments that policy allows but GitHub does not merge yet (reviews…). */
  mergeWaiting: Array<{ pull: number; to: string; reason: string }>;
}

export async function runPolicy(req: PolicyRunRequest): Promise<PolicyRunResult> {
  const progress = req.progress ?? (() => undefined);
  const now = (req.now ?? (() => new Date()))();
  const ws = await GitWorkspace.open(req.repo);
  // Judge PRs against what is merged (baton.yaml, rejected digests), not a stale checkout.
  await ws.syncBase(await ws.currentBranch());
  await ws.fetch();
  const pipeline = await loadPipeline(req.repo);
  const rejected = await readRejectedFile(req.repo);
  const result: PolicyRunResult = { evaluated: [], autoPromoted: [], skipped: [], merged: [], mergeWaiting: [] };
  // autoMerge goes through the same path as `baton merge`; GitHub's refusal (a missing review) only waits.
  const autoMerge = async (pullNumber: number, to: string) => {
    try {
      const outcome = await mergeBatonPull(req.github, await req.github.getPull(pullNumber));
      progress(`#${pullNumber} merged into ${to} (${outcome.method}) as ${outcome.sha.slice(0, 7)}`);
      result.merged.push({ pull: pullNumber, to, method: outcome.method, sha: outcome.sha });
    } catch (e) {
      if (!(e instanceof BatonError) || !["GITHUB_MERGE_REFUSED", "MERGE_POLICY_PENDING"].includes(e.code)) throw e;
      progress(`#${pullNumber} waits: ${e.message}`);
      result.mergeWaiting.push({ pull: pullNumber, to, reason: e.message });
    }
  };
  const healthy = new Map<string, Promise<Date | undefined>>();
  const healthySince = (env: string) => {
    if (!healthy.has(env)) healthy.set(env, Promise.resolve().then(() => sourceEnvironment(pipeline, env)).then((source) => sourceHealthySince(req.github, source.name, ws, source.path)).catch(() => undefined));
    return healthy.get(env) as Promise<Date | undefined>;
  };

  const pulls = await req.github.listOpenPulls(LABELS.promotion);
  for (const pull of pulls) {
    const to = pull.labels.find((l) => l.startsWith("env:"))?.slice(4);
    if (!to || !stageOf(pipeline, to)) continue;
    const sha = await ws.head(`${REMOTE}/${pull.head}`).catch(() => undefined);
    if (!sha) continue;
    const commit = parseBatonCommit(await ws.message(sha));
    const dest = destinationOf(pipeline, to);
    const target = policyEnvironment(dest);
    const from = commit.from ?? target.promoteFrom ?? to;
    const rejectedHere = (rejected[to] ?? []).filter((r) => commit.images.some((i) => sameRejection(i, r))).map((r) => `${r.repository}@${r.digest.slice(0, 14)}`);
    const policy = withWaveGate(evaluatePolicy({
      target, source: from, rejected: rejectedHere, now,
      ...(commit.skipStageReason ? { skipStage: { reason: commit.skipStageReason } } : {}),
      ...(await healthySince(from).then((d) => (d ? { sourceHealthySince: d } : {}))),
    }), await waveGate(dest, pull.labels, healthySince, now));
    await req.github.setCommitStatus(sha, { state: policy.state, context: POLICY_CONTEXT, description: policy.description });
    progress(`#${pull.number} ${from} → ${to}: ${policy.state} (${policy.description})`);
    result.evaluated.push({ pull: pull.number, from, to, sha, state: policy.state, description: policy.description });
    if (policy.state === "success" && target.autoMerge) await autoMerge(pull.number, to);
  }

  if (req.autoPromote) {
    const registry = req.registry;
    // Per stage, not per target: a stage with waves moves one wave at a time (promote picks the wave and gates it).
    for (const stage of pipeline.stages) {
      const target = stage.targets[0] as PipelineEnvironment;
      if (!target.autoPromote || !stage.promoteFrom) continue;
      const from = stage.promoteFrom;
      const reason = await autoPromoteBlocker(ws, pipeline, stage, pulls.some((p) => p.labels.includes(LABELS.env(stage.name))), await healthySince(from), now, req.repo);
      if (reason) {
        result.skipped.push({ to: stage.name, reason });
        continue;
      }
      let promoted: Awaited<ReturnType<typeof promote>>;
      try {
        promoted = await promote({ repo: req.repo, from, to: stage.name, github: () => req.github, progress, now: () => now, ...(registry ? { registry: async () => registry } : {}) });
      } catch (e) {
        // An earlier wave not healthy or soaked yet is a wait, not a failure of the run.
        if (!(e instanceof BatonError) || e.code !== "PROMOTE_WAVE_NOT_READY") throw e;
        result.skipped.push({ to: stage.name, reason: e.message });
        continue;
      }
      if (promoted.action === "noop") {
        result.skipped.push({ to: stage.name, reason: `${stage.name} already runs what ${from} runs` });
        continue;
      }
      result.autoPromoted.push({ from, to: stage.name, ...(promoted.pull ? { pull: promoted.pull.number } : {}), ...(promoted.wave ? { wave: promoted.wave.number } : {}) });
      if (promoted.pull && promoted.policy?.state === "success" && target.autoMerge) await autoMerge(promoted.pull.number, stage.name);
    }
  }
  return result;
}

/** Why auto-promotion into `stage` must wait, or undefined when it may go ahead (which wave, and its gate, is promote's). */
async function autoPromoteBlocker(ws: GitWorkspace, pipeline: Pipeline, stage: Stage, openPull: boolean, sourceHealthy: Date | undefined, now: Date, repo: string): Promise<string | undefined> {
  if (openPull) return "a promotion PR is already open";
  // After a rollback or an aborted release, auto-promotion pauses until a person promotes into this environment by hand.
  for (const target of stage.targets) {
    const last = (await ws.log([target.path], { maxCount: 20, firstParent: true })).map((e) => changeKind(e.subject, parseBatonCommit(`${e.subject}\n\n${e.body}`).kind)).find((kind) => kind !== undefined);
    if (last === "rollback" || last === "abort") return `paused after ${last === "abort" ? "an aborted release" : "a rollback"} of ${target.name}; promote by hand to resume`;
  }
  const target = stage.targets[0] as PipelineEnvironment;
  const policy = evaluatePolicy({ target, source: stage.promoteFrom as string, rejected: [], now, ...(sourceHealthy ? { sourceHealthySince: sourceHealthy } : {}) });
  const soak = policy.checks.find((c) => c.name === "soak");
  if (soak && !soak.ok) return soak.detail;
  if (stage.staged) return undefined;
  const plan = await planPromotion(repo, pipeline, stage.promoteFrom as string, target.name).catch((e: unknown) => e as Error);
  if (plan instanceof Error) return plan.message;
  if (plan.noop) return `${target.name} already runs what ${stage.promoteFrom} runs`;
  return undefined;
}

/**
 * A wave-N PR stays pending while an earlier wave's target is not healthy and soaked (it may have turned
 * unhealthy since the PR was opened). Undefined: not a wave PR, or wave 1.
 */
async function waveGate(dest: Destination, labels: string[], healthySince: (env: string) => Promise<Date | undefined>, now: Date): Promise<string | undefined> {
  const wave = Number(labels.find((l) => l.startsWith("wave:"))?.slice(5));
  const number = dest.namedTarget?.wave ?? wave;
  if (!dest.stage.staged || !Number.isInteger(number) || number < 2) return undefined;
  const earlier = dest.stage.waves.slice(0, number - 1).flat();
  const health = new Map<string, Date | undefined>();
  for (const t of earlier) health.set(t.name, await healthySince(t.name));
  const blockers = waveBlockers(dest.stage, earlier, health, now);
  return blockers.length > 0 ? `wave ${number} waits: ${blockers.join("; ")}` : undefined;
}

function withWaveGate(policy: PolicyResult, blocker: string | undefined): PolicyResult {
  if (!blocker || policy.state === "failure") return policy;
  const description = blocker.length > 140 ? `${blocker.slice(0, 137)}...` : blocker;
  return { ...policy, state: "pending", description };
}
