/**
 * `baton policy`: re-evaluates every open promotion PR (soak, windows, order, rejected digests) and sets
 * its `baton/policy` commit status, so required status checks hold the merge until policy allows it.
 * With auto-promotion it also opens promotion PRs into `autoPromote: true` environments whose source is
 * healthy and soaked, and merges promotion PRs into `autoMerge: true` environments through GitHub once
 * policy allows them (branch protection still applies). Runs once (CI cron) or on a node-cron schedule inside `baton agent --promoter-repo`.
 */
import { findEnvironment, loadPipeline, type PipelineEnvironment, type Pipeline } from "../config/pipeline.js";
import { planPromotion } from "../config/repo.js";
import type { GitHubApi } from "../github/api.js";
import { evaluatePolicy, type PolicyState } from "../policy/evaluate.js";
import { GitWorkspace, REMOTE } from "./git-workspace.js";
import { BatonError } from "../errors.js";
import { mergeBatonPull } from "./merge.js";
import { changeKind, LABELS } from "./naming.js";
import { POLICY_CONTEXT, promote, readRejectedFile, sourceHealthySince, type Progress } from "./promote.js";
import { sameRejection } from "./rejected.js";
import { parseBatonCommit } from "./trailers.js";

export interface PolicyRunRequest {
  repo: string;
  github: GitHubApi;
  autoPromote?: boolean;
  now?: () => Date;
  progress?: Progress;
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
  autoPromoted: Array<{ from: string; to: string; pull?: number }>;
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
    if (!healthy.has(env)) healthy.set(env, sourceHealthySince(req.github, env, ws, findEnvironment(pipeline, env).path).catch(() => undefined));
    return healthy.get(env) as Promise<Date | undefined>;
  };

  const pulls = await req.github.listOpenPulls(LABELS.promotion);
  for (const pull of pulls) {
    const to = pull.labels.find((l) => l.startsWith("env:"))?.slice(4);
    if (!to || !pipeline.environments.some((e) => e.name === to)) continue;
    const sha = await ws.head(`${REMOTE}/${pull.head}`).catch(() => undefined);
    if (!sha) continue;
    const commit = parseBatonCommit(await ws.message(sha));
    const target = findEnvironment(pipeline, to);
    const from = commit.from ?? target.promoteFrom ?? to;
    const rejectedHere = (rejected[to] ?? []).filter((r) => commit.images.some((i) => sameRejection(i, r))).map((r) => `${r.repository}@${r.digest.slice(0, 14)}`);
    const policy = evaluatePolicy({
      target, source: from, rejected: rejectedHere, now,
      ...(commit.skipStageReason ? { skipStage: { reason: commit.skipStageReason } } : {}),
      ...(await healthySince(from).then((d) => (d ? { sourceHealthySince: d } : {}))),
    });
    await req.github.setCommitStatus(sha, { state: policy.state, context: POLICY_CONTEXT, description: policy.description });
    progress(`#${pull.number} ${from} → ${to}: ${policy.state} (${policy.description})`);
    result.evaluated.push({ pull: pull.number, from, to, sha, state: policy.state, description: policy.description });
    if (policy.state === "success" && target.autoMerge) await autoMerge(pull.number, to);
  }

  if (req.autoPromote) {
    for (const target of pipeline.environments.filter((e) => e.autoPromote && e.promoteFrom)) {
      const reason = await autoPromoteBlocker(ws, pipeline, target, pulls.some((p) => p.labels.includes(LABELS.env(target.name))), await healthySince(target.promoteFrom as string), now, req.repo);
      if (reason) {
        result.skipped.push({ to: target.name, reason });
        continue;
      }
      const promoted = await promote({ repo: req.repo, from: target.promoteFrom as string, to: target.name, github: () => req.github, progress, now: () => now });
      result.autoPromoted.push({ from: target.promoteFrom as string, to: target.name, ...(promoted.pull ? { pull: promoted.pull.number } : {}) });
      if (promoted.pull && promoted.policy?.state === "success" && target.autoMerge) await autoMerge(promoted.pull.number, target.name);
    }
  }
  return result;
}

/** Why auto-promotion into `target` must wait, or undefined when it may go ahead. */
async function autoPromoteBlocker(ws: GitWorkspace, pipeline: Pipeline, target: PipelineEnvironment, openPull: boolean, sourceHealthy: Date | undefined, now: Date, repo: string): Promise<string | undefined> {
  if (openPull) return "a promotion PR is already open";
  // After a rollback or an aborted release, auto-promotion pauses until a person promotes into this environment by hand.
  const last = (await ws.log([target.path], { maxCount: 20, firstParent: true })).map((e) => changeKind(e.subject, parseBatonCommit(`${e.subject}\n\n${e.body}`).kind)).find((kind) => kind !== undefined);
  if (last === "rollback" || last === "abort") return `paused after ${last === "abort" ? "an aborted release" : "a rollback"} of ${target.name}; promote by hand to resume`;
  const policy = evaluatePolicy({ target, source: target.promoteFrom as string, rejected: [], now, ...(sourceHealthy ? { sourceHealthySince: sourceHealthy } : {}) });
  const soak = policy.checks.find((c) => c.name === "soak");
  if (soak && !soak.ok) return soak.detail;
  const plan = await planPromotion(repo, pipeline, target.promoteFrom as string, target.name).catch((e: unknown) => e as Error);
  if (plan instanceof Error) return plan.message;
  if (plan.noop) return `${target.name} already runs what ${target.promoteFrom} runs`;
  return undefined;
}
