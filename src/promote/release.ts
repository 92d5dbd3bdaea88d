/**
 * `baton confirm <env> [--all]` and `baton abort <env>`: a release moves only by commits. Confirm writes
 * the next step (or completion) into release.yaml; abort restores the stable digests in the folder, ends
 * the release in release.yaml and rejects the candidate's digests in .baton/rejected.yaml — one commit,
 * opened as a PR, or pushed straight to the base branch with --push where allowDirectPush is set.
 * Notifications (release.confirmed/aborted) come from the agent once the commit is live, not from here.
 */
import { promises as fs } from "node:fs";
import path from "node:path";
import { BatonError } from "../errors.js";
import { findEnvironment, loadPipeline, type PipelineEnvironment, type Pipeline, type Strategy } from "../config/pipeline.js";
import { planEdits, type FileEdit, type PinChange } from "../config/edit.js";
import { readEnvironmentFiles } from "../config/repo.js";
import type { Pin, PinSet } from "../config/pins.js";
import type { GitHubApi } from "../github/api.js";
import { formatRelease, releaseFilePath } from "../release/release.js";
import { renderForApply } from "../release/render.js";
import type { ReleaseState } from "../release/slots.js";
import { afterPromotion, abort as abortTransition, confirm as confirmTransition, retire as retireTransition, type Transition } from "../release/transitions.js";
import { unifiedDiff } from "./diff.js";
import type { GitWorkspace} from "./git-workspace.js";
import { prepareClone } from "./git-workspace.js";
import { imagesPhrase, LABELS, releaseBranch } from "./naming.js";
import { checkDirectPush } from "./policy.js";
import { publishPull, type Published } from "./publish.js";
import { addRejected, formatRejected, parseRejected, REJECTED_FILE } from "./rejected.js";
import { formatCommitMessage, TRAILER, type Trailer } from "./trailers.js";
import type { Progress } from "./promote.js";

export type ReleaseAction = "confirm" | "abort" | "retire";

export interface ReleaseRequest {
  repo: string;
  env: string;
  action: ReleaseAction;
  /** confirm: skip the remaining steps and complete. */
  all?: boolean;
  /** abort: who aborts; `auto` is the agent after a failed health check. */
  by?: "manual" | "auto";
  /** Why (auto-abort: the health message); goes into the commit body and the PR. */
  reason?: string;
  push?: boolean;
  dryRun?: boolean;
  github?: (remoteUrl: string | undefined) => GitHubApi;
  progress?: Progress;
  now?: () => Date;
}

export interface ReleaseResult {
  action: "dry-run" | "pushed" | "opened" | "updated";
  env: string;
  title: string;
  summary: string;
  diff: string;
  /** The candidate digests rejected by an abort. */
  rejected: Pin[];
  branch?: string;
  commit?: string;
  pull?: Published["pull"];
  /** Open PRs of the same action for an earlier release of the environment, closed by this one. */
  superseded?: number[];
}

/** Where an environment's release stands in the clone (validates baton.yaml, the folder and release.yaml). */
export async function readReleaseState(repo: string, pipeline: Pipeline, envName: string): Promise<{ env: PipelineEnvironment; strategy: Strategy; state: ReleaseState; fileText: string | undefined }> {
  const env = findEnvironment(pipeline, envName);
  if (!env.strategy) {
    throw new BatonError("RELEASE_NOTHING", `${envName} has no strategy in baton.yaml`, { file: "baton.yaml", field: `environments.${envName}.strategy`, hint: "confirm and abort apply to environments with a blueGreen or canary strategy; use baton rollback elsewhere" });
  }
  const rendered = await renderForApply(repo, env, { envIndex: pipeline.environments.indexOf(env) });
  const fileText = await fs.readFile(path.join(repo, releaseFilePath(env)), "utf8").catch(() => undefined);
  return { env, strategy: env.strategy, state: rendered.release?.state as ReleaseState, fileText };
}

/** The release.yaml edit that goes into a promotion (or pin) commit into a strategy environment: step 0. */
export async function releaseEditFor(repo: string, pipeline: Pipeline, envName: string, changes: PinChange[]): Promise<FileEdit | undefined> {
  if (!findEnvironment(pipeline, envName).strategy || changes.length === 0) return undefined;
  const { env, state, fileText } = await readReleaseState(repo, pipeline, envName);
  const next = afterPromotion(state, Object.fromEntries(changes.map((c) => [c.repository, c.to.digest ?? ""])));
  return next ? { file: releaseFilePath(env), before: fileText ?? "", after: formatRelease(next) } : undefined;
}

const pinsOf = (images: Record<string, string>): Pin[] => Object.entries(images).map(([repository, digest]) => ({ repository, digest }));

export async function changeRelease(req: ReleaseRequest): Promise<ReleaseResult> {
  const progress = req.progress ?? (() => undefined);
  const needPr = !req.dryRun && !req.push;
  let ws: GitWorkspace | undefined;
  let base: string | undefined;
  let github: GitHubApi | undefined;
  if (!req.dryRun) {
    ({ ws, base, github } = await prepareClone(req.repo, {
      ...(req.github ? { github: req.github } : {}), progress,
      ...(needPr ? { needGitHub: new BatonError("GITHUB_TOKEN_MISSING", `${req.action} opens a pull request and needs GitHub`, { hint: "set GITHUB_TOKEN, use --push where allowDirectPush is set, or --dry-run" }) } : {}),
    }));
  }
  const pipeline = await loadPipeline(req.repo);
  if (req.push) checkDirectPush(pipeline, req.env, "--push");
  const { env, strategy, state, fileText } = await readReleaseState(req.repo, pipeline, req.env);

  let transition: Transition;
  const edits: FileEdit[] = [];
  let rejected: Pin[] = [];
  const trailers: Trailer[] = [[TRAILER.release, req.env]];
  if (req.action === "abort") {
    const t = abortTransition(req.env, state);
    transition = t;
    rejected = pinsOf(t.rejected);
    // The folder pins the stable digests again: the same content edit a promotion makes, never a re-render.
    const restore: PinSet = new Map(pinsOf(t.restore).map((p) => [p.repository, p]));
    edits.push(...planEdits(await readEnvironmentFiles(req.repo, env), restore).edits);
    const at = (req.now ?? (() => new Date()))().toISOString();
    const before = await fs.readFile(path.join(req.repo, REJECTED_FILE), "utf8").catch(() => "");
    const list = addRejected(parseRejected(before || undefined), req.env, rejected.map((p) => ({ repository: p.repository, digest: p.digest ?? "", reason: `release aborted (${req.by ?? "manual"})`, at })));
    edits.push({ file: REJECTED_FILE, before, after: formatRejected(list) });
    trailers.push([TRAILER.abort, req.by ?? "manual"], ...pinsOf(t.restore).map((p): Trailer => [TRAILER.image, `${p.repository}@${p.digest ?? ""}`]));
  } else if (req.action === "retire") {
    transition = retireTransition(req.env, state);
    trailers.push([TRAILER.retire, state.candidateSlot]);
  } else {
    transition = confirmTransition(req.env, strategy, state, req.all);
    trailers.push([TRAILER.confirm, transition.complete ? "complete" : `step ${(transition.release.step ?? 0) + 1}`]);
    if (transition.complete) trailers.push(...pinsOf(state.pinnedImages).map((p): Trailer => [TRAILER.image, `${p.repository}@${p.digest ?? ""}`]));
  }
  edits.push({ file: releaseFilePath(env), before: fileText ?? "", after: formatRelease(transition.release) });

  const verb = req.action === "abort" ? "Abort" : req.action === "retire" ? "Retire the old slot of" : "Confirm";
  const title = `${verb} ${imagesPhrase(pinsOf(state.step ? state.pinnedImages : state.stableImages))} in ${req.env}: ${transition.summary}`;
  const diff = unifiedDiff(edits);
  const result: ReleaseResult = { action: "dry-run", env: req.env, title, summary: transition.summary, diff, rejected };
  if (req.dryRun || !ws || !base) return result;

  const body = req.reason ? req.reason.slice(0, 2000) : undefined;
  const message = formatCommitMessage(title, trailers, body);
  if (req.push) {
    const start = await ws.head();
    try {
      await ws.commit(message, await ws.writeEdits(edits));
      progress(`pushing to ${base}`);
      await ws.push(base);
    } catch (e) {
      await ws.resetHard(start).catch(() => undefined);
      throw e;
    }
    const commit = await ws.head();
    return { ...result, action: "pushed", commit, branch: base };
  }
  if (!github) throw new BatonError("GITHUB_TOKEN_MISSING", `${req.action} needs GitHub`, { hint: "set GITHUB_TOKEN" });
  // The release's images: the candidate while a step is out, the completed release's for retire.
  const branch = releaseBranch(req.action, req.env, pinsOf(state.step ? state.pinnedImages : state.stableImages));
  const commit = await ws.commitOnBranch(branch, base, message, edits, progress);
  const published = await publishPull(github, {
    head: branch, base, title,
    body: `Baton ${req.action === "abort" ? "aborts" : req.action === "retire" ? "retires the old slot of" : "confirms"} the release in **${req.env}** (${transition.summary}).${body ? `\n\n${body}` : ""}${rejected.length ? `\n\nRejected in \`${REJECTED_FILE}\`: ${rejected.map((p) => `\`${p.repository}@${p.digest ?? ""}\``).join(", ")}.` : ""}\n\n\`\`\`diff\n${diff.slice(0, 50_000)}\`\`\`\n`,
    labels: [LABELS.baton, LABELS.release, LABELS.env(req.env)],
    // An open PR of the same action for an earlier release of this environment can no longer apply.
    supersedeLabels: [LABELS.env(req.env), LABELS.release], supersedesPrefix: `baton/${req.action}/${req.env}/`,
  }, progress);
  return { ...result, action: published.action, branch, commit, pull: published.pull, superseded: published.superseded };
}
