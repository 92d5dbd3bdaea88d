/**
 * The promoter's release pass: for every environment with a strategy, compare the release in git with the
 * agent's report (Environment status) and make the commit the decision asks for — advance, retire, or
 * auto-abort (trailer `Baton-Abort: auto`). Pushed where the pipeline allows it (autoAbort: push, or
 * allowDirectPush for advancing and retiring), otherwise a PR; a PR-based auto-abort also alerts.
 */
import path from "node:path";
import { loadPipeline, type Pipeline } from "../config/pipeline.js";
import type { GitHubApi } from "../github/api.js";
import { announce } from "../notify/announce.js";
import { decideRelease, type LiveRelease, type ReleaseDecision } from "../release/decide.js";
import { BatonError, BatonErrors } from "../errors.js";
import { changeRelease, readReleaseState, type ReleaseResult } from "./release.js";
import type { Progress } from "./promote.js";

export interface LiveEnvironment extends LiveRelease {
  /** spec.path of the Environment object: how it is matched to baton.yaml. */
  path: string;
}

export interface ReleaseRunRequest {
  repo: string;
  live: LiveEnvironment[];
  github?: (remoteUrl: string | undefined) => GitHubApi;
  now?: () => Date;
  progress?: Progress;
}

export interface ReleaseRunEntry {
  env: string;
  decision: ReleaseDecision;
  result?: ReleaseResult;
  error?: string;
}

const norm = (p: string) => path.posix.normalize(p).replace(/\/$/, "");

export async function runReleases(req: ReleaseRunRequest): Promise<ReleaseRunEntry[]> {
  const progress = req.progress ?? (() => undefined);
  const now = (req.now ?? (() => new Date()))();
  const pipeline: Pipeline = await loadPipeline(req.repo);
  const out: ReleaseRunEntry[] = [];
  for (const env of pipeline.environments.filter((e) => e.strategy)) {
    const live = req.live.find((l) => norm(l.path) === norm(env.path));
    if (!live || !env.strategy) continue;
    let decision: ReleaseDecision;
    try {
      const { state } = await readReleaseState(req.repo, pipeline, env.name);
      decision = decideRelease(env.strategy, state, live, now);
    } catch (e) {
      if (!(e instanceof BatonError) && !(e instanceof BatonErrors)) throw e;
      out.push({ env: env.name, decision: { action: "wait", reason: "the release in git does not validate" }, error: e.message.split("\n")[0] ?? "" });
      continue;
    }
    if (decision.action === "wait") {
      out.push({ env: env.name, decision });
      continue;
    }
    const push = decision.action === "abort" ? env.strategy.autoAbort === "push" : env.allowDirectPush;
    progress(`${env.name}: ${decision.action} (${decision.reason})`);
    try {
      const result = await changeRelease({
        repo: req.repo, env: env.name, action: decision.action === "advance" ? "confirm" : decision.action, push,
        ...(decision.action === "abort" ? { by: "auto" as const, reason: decision.reason } : {}),
        ...(req.github ? { github: req.github } : {}), progress,
      });
      // Announced when the PR is opened; a later pass that only updates it does not alert again.
      if (decision.action === "abort" && !push && result.action === "opened") {
        // Nothing changes in the cluster until someone merges the abort PR: say so loudly.
        await announce(pipeline, { type: "release.aborted", environment: env.name, summary: `candidate failed health; auto-abort PR #${result.pull?.number ?? "?"} needs a merge: ${decision.reason}`.slice(0, 300), ...(result.pull ? { url: result.pull.url } : {}) }, progress);
      }
      out.push({ env: env.name, decision, result });
    } catch (e) {
      out.push({ env: env.name, decision, error: e instanceof Error ? e.message : String(e) });
    }
  }
  return out;
}
