/**
 * `baton pin <env> <image>=<repo>@sha256:…`: CI's entry point after a build. Writes the digest into the
 * environment and either pushes the commit straight to the base branch (`--commit`, with fetch/rebase/retry
 * on a race) or opens a PR (`--pr`). --dry-run prints the diff and touches nothing.
 */
import { loadPipeline } from "../config/pipeline.js";
import { parsePinArgument, planPin } from "../config/repo.js";
import { formatImageRef } from "../config/image-ref.js";
import type { PinChange } from "../config/edit.js";
import { BatonError } from "../errors.js";
import type { GitHubApi } from "../github/api.js";
import { unifiedDiff } from "./diff.js";
import type { GitWorkspace} from "./git-workspace.js";
import { prepareClone } from "./git-workspace.js";
import { LABELS, pinBranch, pinTitle } from "./naming.js";
import { checkDirectPush, directPushAllowed } from "./policy.js";
import { pullBody } from "./pr-body.js";
import { publishPull, type Published } from "./publish.js";
import { assertNotRejected } from "./rejected.js";
import { readRejectedFile, type Progress } from "./promote.js";
import { releaseEditFor } from "./release.js";
import { formatCommitMessage, TRAILER, type Trailer } from "./trailers.js";

export interface PinRequest {
  repo: string;
  env: string;
  /** `name=repo@sha256:…` arguments as given on the command line. */
  images: string[];
  /** Absent only with dryRun: whichever the environment allows (a direct push where allowed, else a PR). */
  mode?: "commit" | "pr";
  dryRun?: boolean;
  /** Needed unless dryRun; called with the origin URL, lazily, so --dry-run never asks for a token. */
  github?: (remoteUrl: string | undefined) => GitHubApi;
  progress?: Progress;
  /** Close older open pin PRs of this environment (the registry watch keeps one pin PR per environment). */
  supersede?: boolean;
  /** Lines for the PR body about where the images come from (registry watch: tags, build time, revision). */
  provenance?: string[];
}

export interface PinResult {
  action: "noop" | "dry-run" | "pushed" | "opened" | "updated";
  env: string;
  title: string;
  diff: string;
  changes: PinChange[];
  branch?: string;
  commit?: string;
  pushAttempts?: number;
  pull?: Published["pull"];
  superseded?: number[];
}

export async function pin(req: PinRequest): Promise<PinResult> {
  const progress = req.progress ?? (() => undefined);
  const pins = req.images.map(parsePinArgument);
  if (!req.mode && !req.dryRun) throw new BatonError("USAGE", "choose one of --commit or --pr", { field: "--commit", hint: "--commit pushes directly; --pr opens a pull request" });
  if (pins.length === 0) throw new BatonError("USAGE", "name at least one image", { hint: "baton pin <env> web=ghcr.io/acme/web@sha256:…" });
  let ws: GitWorkspace | undefined;
  let base: string | undefined;
  let github: GitHubApi | undefined;
  if (!req.dryRun) {
    ({ ws, base, github } = await prepareClone(req.repo, {
      ...(req.github ? { github: req.github } : {}), progress,
      ...(req.mode === "pr" ? { needGitHub: new BatonError("GITHUB_TOKEN_MISSING", "pin --pr opens a pull request and needs GitHub", { hint: "set GITHUB_TOKEN, use --commit, or --dry-run" }) } : {}),
    }));
  }
  const pipeline = await loadPipeline(req.repo);
  const mode = req.mode ?? (directPushAllowed(pipeline, req.env) ? "commit" : "pr");
  if (mode === "commit") checkDirectPush(pipeline, req.env, "--commit");
  assertNotRejected(await readRejectedFile(req.repo), req.env, pins);
  const plan = await planPin(req.repo, pipeline, req.env, pins);
  const releaseEdit = plan.noop ? undefined : await releaseEditFor(req.repo, pipeline, req.env, plan.changes);
  if (releaseEdit) plan.edits.push(releaseEdit);
  const moving = plan.changes.map((c) => c.to);
  const title = pinTitle(req.env, moving);
  const result: PinResult = { action: "noop", env: req.env, title, diff: unifiedDiff(plan.edits), changes: plan.changes };
  if (plan.noop) return result;
  if (req.dryRun || !ws || !base) return { ...result, action: "dry-run", ...(mode === "pr" ? { branch: pinBranch(req.env, moving) } : {}) };

  const message = formatCommitMessage(title, [[TRAILER.pin, req.env], ...moving.map((p): Trailer => [TRAILER.image, formatImageRef({ repository: p.repository, ...(p.digest ? { digest: p.digest } : {}) })])]);
  if (mode === "commit") {
    const start = await ws.head();
    try {
      const files = await ws.writeEdits(plan.edits);
      await ws.commit(message, files);
      progress(`pushing to ${base}`);
      const { attempts } = await ws.push(base);
      return { ...result, action: "pushed", commit: await ws.head(), pushAttempts: attempts };
    } catch (e) {
      // An unpushed local pin would make the next run see "nothing to pin": leave the clone as it was.
      await ws.resetHard(start).catch(() => undefined);
      throw e;
    }
  }
  if (!github) throw new BatonError("GITHUB_TOKEN_MISSING", "pin --pr needs GitHub", { hint: "set GITHUB_TOKEN" });
  const branch = pinBranch(req.env, moving);
  result.commit = await ws.commitOnBranch(branch, base, message, plan.edits, progress);
  const published = await publishPull(github, {
    head: branch, base, title, body: pullBody({ kind: "pin", to: req.env, changes: plan.changes, diff: result.diff, ...(req.provenance ? { provenance: req.provenance } : {}) }),
    labels: [LABELS.baton, LABELS.pin, LABELS.env(req.env)],
    ...(req.supersede ? { supersedeLabels: [LABELS.pin, LABELS.env(req.env)], supersedesPrefix: `baton/pin/${req.env}/` } : {}),
  }, progress);
  return { ...result, action: published.action, branch, pull: published.pull, superseded: published.superseded };
}
