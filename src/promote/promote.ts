/**
 * `baton promote <from> <to>`: plan the digest edits (config core), check policy (order, rejected
 * digests), then — unless --dry-run — commit only those edits on `baton/promote/<to>/<short>`, push, and
 * open or update the PR. --dry-run needs no git remote, no network and no token.
 */
import { promises as fs } from "node:fs";
import path from "node:path";
import { loadPipeline, findEnvironment } from "../config/pipeline.js";
import { planPromotion, type PromotionPlan } from "../config/repo.js";
import { formatImageRef } from "../config/image-ref.js";
import { BatonError } from "../errors.js";
import type { GitHubApi } from "../github/api.js";
import { unifiedDiff } from "./diff.js";
import { GitWorkspace, prepareClone } from "./git-workspace.js";
import { announce } from "../notify/announce.js";
import { LABELS, promotionBranch, promotionTitle } from "./naming.js";
import { checkOrder } from "./policy.js";
import { pullBody } from "./pr-body.js";
import { publishPull, type Published } from "./publish.js";
import { assertNotRejected, parseRejected, REJECTED_FILE, type RejectedList } from "./rejected.js";
import { formatCommitMessage, TRAILER, type Trailer } from "./trailers.js";
import { releaseEditFor } from "./release.js";
import { evaluatePolicy, type PolicyResult } from "../policy/evaluate.js";
import { soakStart, succeededAt, type DeploymentHistory } from "../policy/soak.js";

/** The commit status that branch protection requires: soak and windows gate the merge on GitHub's side. */
export const POLICY_CONTEXT = "baton/policy";

export type Progress = (message: string) => void;

export interface PromoteRequest {
  repo: string;
  from: string;
  to: string;
  images?: string[];
  skipStage?: boolean;
  reason?: string;
  dryRun?: boolean;
  /** Needed unless dryRun; called with the origin URL, lazily, so --dry-run never asks for a token. */
  github?: (remoteUrl: string | undefined) => GitHubApi;
  progress?: Progress;
  now?: () => Date;
}

export interface PromoteResult {
  action: "noop" | "dry-run" | "opened" | "updated";
  from: string;
  to: string;
  branch: string;
  title: string;
  body: string;
  diff: string;
  changes: PromotionPlan["changes"];
  /** Images the source runs that the target does not use: reported, never added by a promotion. */
  notPromoted: string[];
  commit?: string;
  pull?: Published["pull"];
  superseded: number[];
  policy?: Pick<PolicyResult, "state" | "description">;
}

/**
 * Since when the source environment has been healthy with what it pins now: the agent records a GitHub
 * deployment per applied revision. Only deployments of a revision that contains `lastChange` (the newest
 * commit touching the source folder) count, so a digest that was pinned but not yet applied has no soak.
 * Consecutive successful deployments of such revisions extend the healthy period back in time, also when
 * GitHub has since marked the older ones `inactive` (see policy/soak.ts).
 */
export async function sourceHealthySince(github: GitHubApi, env: string, ws?: GitWorkspace, sourcePath?: string): Promise<Date | undefined> {
  const lastChange = ws && sourcePath ? (await ws.log([sourcePath], { maxCount: 1 }))[0]?.sha : undefined;
  const history: DeploymentHistory[] = [];
  // Read lazily: the walk stops at the first deployment that does not count, which is usually near the top.
  for (const deployment of await github.listDeployments(env)) {
    const containsChange = !lastChange || (await ws?.isAncestor(lastChange, deployment.sha)) === true;
    const statuses = containsChange ? await github.listDeploymentStatuses(deployment.id) : [];
    history.push({ containsChange, statuses });
    if (!containsChange || !succeededAt(statuses, history.length === 1)) break;
  }
  return soakStart(history);
}

export async function readRejectedFile(repoDir: string): Promise<RejectedList> {
  return parseRejected(await fs.readFile(path.join(repoDir, REJECTED_FILE), "utf8").catch(() => undefined));
}

/** Facts about the source environment for the PR body; git/GitHub failures only drop a line. */
async function sourceFacts(ws: GitWorkspace | undefined, sourcePath: string, from: string, github: GitHubApi | undefined): Promise<string[]> {
  const facts: string[] = [];
  const last = await ws?.log([sourcePath], { maxCount: 1 }).catch(() => []);
  const commit = last?.[0];
  if (commit) facts.push(`last change to \`${sourcePath}\`: ${commit.sha.slice(0, 7)} "${commit.subject}" by ${commit.author}, ${commit.date}`);
  if (github) {
    try {
      const deployment = (await github.listDeployments(from))[0];
      const status = deployment ? (await github.listDeploymentStatuses(deployment.id))[0] : undefined;
      if (deployment && status) facts.push(`latest deployment of ${from}: ${deployment.sha.slice(0, 7)} is **${status.state}** since ${status.createdAt}`);
    } catch {
      // Health is informative here; the soak gate is enforced by the policy status, not by this text.
    }
  }
  return facts;
}

export async function promote(req: PromoteRequest): Promise<PromoteResult> {
  const progress = req.progress ?? (() => undefined);
  let ws: GitWorkspace | undefined;
  let base: string | undefined;
  let github: GitHubApi | undefined;
  if (!req.dryRun) {
    ({ ws, base, github } = await prepareClone(req.repo, {
      ...(req.github ? { github: req.github } : {}), progress,
      needGitHub: new BatonError("GITHUB_TOKEN_MISSING", "promote opens a pull request and needs GitHub", { hint: "set GITHUB_TOKEN, or use --dry-run" }),
    }));
  }
  const pipeline = await loadPipeline(req.repo);
  const { skipped } = checkOrder(pipeline, req.from, req.to, { skipStage: req.skipStage, reason: req.reason });
  const plan = await planPromotion(req.repo, pipeline, req.from, req.to, { images: req.images });
  // Into an environment with a strategy the promotion also starts the release (release.yaml step 0), same commit.
  const releaseEdit = plan.noop ? undefined : await releaseEditFor(req.repo, pipeline, req.to, plan.changes);
  if (releaseEdit) plan.edits.push(releaseEdit);
  const moving = plan.changes.map((c) => c.to);
  assertNotRejected(await readRejectedFile(req.repo), req.to, moving);
  const branch = promotionBranch(req.to, moving);
  const title = promotionTitle(req.to, moving);
  const diff = unifiedDiff(plan.edits);
  const result: PromoteResult = { action: "noop", from: req.from, to: req.to, branch, title, body: "", diff, changes: plan.changes, notPromoted: plan.onlyInSource, superseded: [] };
  if (plan.noop) return result;
  const source = findEnvironment(pipeline, req.from);
  result.body = pullBody({
    kind: "promotion", from: req.from, to: req.to, changes: plan.changes, diff,
    source: await sourceFacts(ws ?? (await GitWorkspace.open(req.repo).catch(() => undefined)), source.path, req.from, github),
    ...(skipped && req.reason ? { skipStageReason: req.reason } : {}), onlyInTarget: plan.onlyInTarget, onlyInSource: plan.onlyInSource,
  });
  if (req.dryRun || !ws || !base || !github) return { ...result, action: "dry-run" };

  const trailers: Trailer[] = [[TRAILER.promotion, `${req.from} -> ${req.to}`], ...moving.map((p): Trailer => [TRAILER.image, formatImageRef({ repository: p.repository, ...(p.digest ? { digest: p.digest } : {}) })])];
  if (skipped && req.reason) trailers.push([TRAILER.skipStage, req.reason]);
  result.commit = await ws.commitOnBranch(branch, base, formatCommitMessage(title, trailers), plan.edits, progress);
  const published = await publishPull(github, {
    head: branch, base, title, body: result.body,
    labels: [LABELS.baton, LABELS.promotion, LABELS.env(req.to)],
    // A promotion of selected images (--image) moves only part of the source: it supersedes nothing.
    ...(req.images?.length ? {} : { supersedeLabels: [LABELS.env(req.to), LABELS.promotion], supersedesPrefix: `baton/promote/${req.to}/` }),
  }, progress);
  // Order and rejected digests were enforced above; soak and windows may still make the merge wait.
  const policy = evaluatePolicy({
    target: findEnvironment(pipeline, req.to), source: req.from, rejected: [],
    sourceHealthySince: await sourceHealthySince(github, req.from, ws, findEnvironment(pipeline, req.from).path).catch(() => undefined),
    ...(skipped && req.reason ? { skipStage: { reason: req.reason } } : {}),
    now: (req.now ?? (() => new Date()))(),
  });
  if (result.commit) await github.setCommitStatus(result.commit, { state: policy.state, context: POLICY_CONTEXT, description: policy.description });
  await announce(pipeline, { type: "promotion.opened", environment: req.to, summary: `${title} (#${published.pull.number})`, url: published.pull.url, ...(result.commit ? { revision: result.commit } : {}) }, progress);
  return { ...result, action: published.action, pull: published.pull, superseded: published.superseded, policy: { state: policy.state, description: policy.description } };
}
