/**
 * `baton promote <from> <to>`: plan the digest edits (config core), check policy (order, rejected
 * digests), then — unless --dry-run — commit only those edits on `baton/promote/<to>/<short>`, push, and
 * open or update the PR. --dry-run needs no git remote, no network and no token.
 */
import { promises as fs } from "node:fs";
import path from "node:path";
import { isRemoteChart, loadPipeline, PIPELINE_FILE, type PipelineEnvironment } from "../config/pipeline.js";
import { planPromotion, type PromotionPlan } from "../config/repo.js";
import { formatImageRef } from "../config/image-ref.js";
import { BatonError } from "../errors.js";
import type { GitHubApi } from "../github/api.js";
import { unifiedDiff } from "./diff.js";
import { GitWorkspace, prepareClone } from "./git-workspace.js";
import { announce } from "../notify/announce.js";
import { LABELS, promotionBranch, promotionTitle } from "./naming.js";
import { checkOrder } from "./policy.js";
import { chooseWave, destinationOf, policyEnvironment, sourceEnvironment, waveBlockers } from "./waves.js";
import { pullBody } from "./pr-body.js";
import { publishPull, type Published } from "./publish.js";
import { assertNotRejected, parseRejected, REJECTED_FILE, type RejectedList } from "./rejected.js";
import { formatCommitMessage, TRAILER, type Trailer } from "./trailers.js";
import { releaseEditFor } from "./release.js";
import { evaluatePolicy, type PolicyResult } from "../policy/evaluate.js";
import { soakStart, succeededAt, type DeploymentHistory } from "../policy/soak.js";
import { RegistryClient } from "../registry/client.js";
import { loadKeys, verifyImage } from "../registry/signature.js";
import { postSignatureStatus, signatureLines, type ImageSignature } from "./signature-status.js";

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
  /** Into a stage with waves: the wave to promote (default: the first whose targets do not run the digests). */
  wave?: number;
  dryRun?: boolean;
  /** Needed unless dryRun; called with the origin URL, lazily, so --dry-run never asks for a token. */
  github?: (remoteUrl: string | undefined) => GitHubApi;
  progress?: Progress;
  now?: () => Date;
  /** Reads cosign signatures when the target has `verify` (default: anonymous); called only then. */
  registry?: () => Promise<RegistryClient>;
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
  /** Into a stage with targets: the wave this promotion moves. */
  wave?: WaveResult;
  /** With `verify` on the target: each promoted digest's signature, also posted as baton/signature. */
  signatures?: ImageSignature[];
}

export interface WaveResult {
  number: number;
  /** How many waves the stage has. */
  of: number;
  /** The targets whose folders the PR edits. */
  targets: string[];
  /** The earlier waves' targets the gate judged. */
  earlier: string[];
  /** What the gate found (absent for wave 1). */
  gate?: string;
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
  const source = sourceEnvironment(pipeline, req.from);
  const dest = destinationOf(pipeline, req.to);
  // Every target of the stage is planned: which wave moves next depends on what each one pins already.
  const plans = new Map<string, PromotionPlan>();
  for (const target of dest.stage.staged ? dest.stage.targets : dest.targets) plans.set(target.name, await planPromotion(req.repo, pipeline, source.name, target.name, { images: req.images }));
  const choice = dest.stage.staged ? chooseWave(dest, (name) => plans.get(name)?.noop === true, req.wave) : undefined;
  const writing = (choice?.targets ?? dest.targets).filter((t) => plans.get(t.name)?.noop === false);
  const first = plans.get((writing[0] ?? choice?.targets[0] ?? dest.targets[0] as PipelineEnvironment).name) as PromotionPlan;
  const plan: PromotionPlan = { ...first, edits: [], noop: writing.length === 0 };
  for (const target of writing) {
    const own = plans.get(target.name) as PromotionPlan;
    plan.edits.push(...own.edits);
    // Into an environment with a strategy the promotion also starts the release (release.yaml step 0), same commit.
    // A chart version that moves along (a change of baton.yaml) is not an image: no release step, trailer or rejection.
    const images = own.changes.filter((c) => !isRemoteChart(c.repository));
    const releaseEdit = images.length === 0 ? undefined : await releaseEditFor(req.repo, pipeline, target.name, images);
    if (releaseEdit) plan.edits.push(releaseEdit);
  }
  const moving = plan.changes.map((c) => c.to);
  const movingImages = moving.filter((p) => !isRemoteChart(p.repository));
  const rejectedList = await readRejectedFile(req.repo);
  for (const name of new Set([req.to, ...writing.map((t) => t.name)])) assertNotRejected(rejectedList, name, movingImages);
  // A stage's waves get a branch (and PR) each; a named target's promotion is keyed on the target.
  const key = choice && !dest.namedTarget ? `${req.to}/wave-${choice.wave}` : req.to;
  const branch = promotionBranch(key, moving);
  const title = `${promotionTitle(req.to, moving)}${choice ? ` (wave ${choice.wave}: ${(writing.length > 0 ? writing : choice.targets).map((t) => t.name).join(", ")})` : ""}`;
  const diff = unifiedDiff(plan.edits);
  const result: PromoteResult = {
    action: "noop", from: req.from, to: req.to, branch, title, body: "", diff, changes: plan.changes, notPromoted: plan.onlyInSource, superseded: [],
    ...(choice ? { wave: { number: choice.wave, of: dest.stage.waves.length, targets: writing.map((t) => t.name), earlier: choice.earlier.map((t) => t.name) } } : {}),
  };
  if (plan.noop) return result;
  // Wave N moves only when every earlier-wave target is healthy and soaked at these digests (its GitHub Deployments).
  if (choice && choice.earlier.length > 0) {
    if (!github || !ws) {
      result.wave = { ...(result.wave as WaveResult), gate: "not checked: --dry-run reads no GitHub Deployments" };
    } else {
      const health = new Map<string, Date | undefined>();
      for (const t of choice.earlier) health.set(t.name, await sourceHealthySince(github, t.name, ws, t.path).catch(() => undefined));
      const blockers = waveBlockers(dest.stage, choice.earlier, health, (req.now ?? (() => new Date()))());
      if (blockers.length > 0) {
        throw new BatonError("PROMOTE_WAVE_NOT_READY", `wave ${choice.wave} of ${dest.stage.name} waits for wave ${choice.wave - 1}: ${blockers.join("; ")}`, {
          file: PIPELINE_FILE, field: `environments.${dest.stage.name}.waveSoak`,
          hint: `rerun when every earlier-wave target is healthy for ${dest.stage.waveSoak ?? "its soak"} (baton status ${dest.stage.name}); the promoter opens it by itself under autoPromote`,
        });
      }
      result.wave = { ...(result.wave as WaveResult), gate: `${choice.earlier.map((t) => t.name).join(", ")} healthy${dest.stage.waveSoakMs > 0 ? ` for at least ${dest.stage.waveSoak}` : ""}` };
    }
  }
  const waveFacts = result.wave ? [`wave ${result.wave.number} of ${result.wave.of} of ${dest.stage.name}: ${result.wave.targets.join(", ")}${result.wave.gate ? ` (earlier waves: ${result.wave.gate})` : ""}`] : [];
  result.body = pullBody({
    kind: "promotion", from: req.from, to: req.to, changes: plan.changes, diff,
    source: [...waveFacts, ...(await sourceFacts(ws ?? (await GitWorkspace.open(req.repo).catch(() => undefined)), source.path, source.name, github))],
    ...(skipped && req.reason ? { skipStageReason: req.reason } : {}), onlyInTarget: plan.onlyInTarget, onlyInSource: plan.onlyInSource,
  });
  if (req.dryRun || !ws || !base || !github) return { ...result, action: "dry-run" };
  // Checked before anything is pushed: a registry that cannot be read fails the promotion, never hides the check.
  const signatures = await promotedSignatures(req, writing[0] ?? dest.targets[0], movingImages);
  if (signatures) {
    result.signatures = signatures;
    result.body += `\n\n**Signatures (verify in baton.yaml)**\n${signatureLines(signatures).map((l) => `- ${l}`).join("\n")}`;
  }

  const trailers: Trailer[] = [[TRAILER.promotion, `${req.from} -> ${req.to}`], ...(result.wave ? [[TRAILER.wave, String(result.wave.number)] as Trailer] : []), ...movingImages.map((p): Trailer => [TRAILER.image, formatImageRef({ repository: p.repository, ...(p.digest ? { digest: p.digest } : {}) })])];
  if (skipped && req.reason) trailers.push([TRAILER.skipStage, req.reason]);
  result.commit = await ws.commitOnBranch(branch, base, formatCommitMessage(title, trailers), plan.edits, progress);
  const published = await publishPull(github, {
    head: branch, base, title, body: result.body,
    labels: [LABELS.baton, LABELS.promotion, LABELS.env(req.to), ...(result.wave ? [LABELS.wave(result.wave.number)] : [])],
    // A promotion of selected images (--image) moves only part of the source: it supersedes nothing.
    ...(req.images?.length ? {} : { supersedeLabels: [LABELS.env(req.to), LABELS.promotion], supersedesPrefix: `baton/promote/${key}/` }),
  }, progress);
  // Order and rejected digests were enforced above; soak and windows may still make the merge wait.
  const policy = evaluatePolicy({
    target: policyEnvironment(dest), source: req.from, rejected: [],
    sourceHealthySince: await sourceHealthySince(github, source.name, ws, source.path).catch(() => undefined),
    ...(skipped && req.reason ? { skipStage: { reason: req.reason } } : {}),
    now: (req.now ?? (() => new Date()))(),
  });
  if (result.commit) await github.setCommitStatus(result.commit, { state: policy.state, context: POLICY_CONTEXT, description: policy.description });
  if (result.commit && signatures) await postSignatureStatus(github, result.commit, signatures);
  await announce(pipeline, { type: "promotion.opened", environment: req.to, summary: `${title} (#${published.pull.number})`, url: published.pull.url, ...(result.commit ? { revision: result.commit } : {}) }, progress);
  return { ...result, action: published.action, pull: published.pull, superseded: published.superseded, policy: { state: policy.state, description: policy.description } };
}

/**
 * The cosign signature of every digest the promotion moves, when the target has `verify` (a stage's
 * targets share it).
 */
async function promotedSignatures(req: PromoteRequest, target: PipelineEnvironment | undefined, moving: Array<{ repository: string; digest?: string }>): Promise<ImageSignature[] | undefined> {
  if (!target?.verify) return undefined;
  const keys = await loadKeys(req.repo, target.verify.keys, (target.pathField ?? `environments.${target.name}.path`).replace(/(\.targets\[\d+\])?\.path$/, ".verify.keys"));
  const registry = req.registry ? await req.registry() : new RegistryClient();
  const signatures: ImageSignature[] = [];
  for (const image of moving) {
    const result = image.digest ? await verifyImage(registry, image.repository, image.digest, keys) : { status: "missing" as const, reason: "not pinned by digest" };
    signatures.push({ repository: image.repository, digest: image.digest ?? "", result });
  }
  return signatures;
}
