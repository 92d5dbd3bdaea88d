/**
 * The scheduled promoter inside `baton agent --promoter-repo DIR`: on a node-cron schedule, and only on
 * the leader, it runs `baton policy --auto-promote` against a config repo clone, the registry watch
 * (`baton watch`) for environments with imageWatch, then the release pass: advance healthy steps and
 * timed pauses, retire old slots, auto-abort failed candidates — each a commit.
 * One run at a time.
 */
import { schedule } from "node-cron";
import { tryConnectGitHub } from "../github/connect.js";
import type { KubeClient } from "../kube/client.js";
import type { Logger } from "../log.js";
import { GitWorkspace } from "../promote/git-workspace.js";
import { runPolicy } from "../promote/policy-run.js";
import { watch } from "../promote/watch.js";
import { loadPipeline } from "../config/pipeline.js";
import type { RegistryClient } from "../registry/client.js";
import { runReleases, type LiveEnvironment } from "../promote/release-run.js";
import { ENV_API_VERSION, ENV_KIND, type EnvironmentObject } from "./environment.js";

/** The agent's reports, as the release pass reads them: readiness, failed health, and status.release. */
export async function liveEnvironments(client: KubeClient, namespaces: string | undefined): Promise<LiveEnvironment[]> {
  const scopes = namespaces ? namespaces.split(",").map((n) => n.trim()).filter(Boolean) : [undefined];
  const items = (await Promise.all(scopes.map((ns) => client.list(ENV_API_VERSION, ENV_KIND, ns)))).flat() as EnvironmentObject[];
  return items.map((e) => {
    const ready = e.status?.conditions?.find((c) => c.type === "Ready");
    return {
      path: (e.spec as { path?: string }).path ?? "",
      ready: ready?.status === "True",
      healthFailed: ready?.status === "False" && (ready.reason === "HealthCheckFailed" || ready.reason === "HealthCheckTimeout"),
      ...(ready?.message ? { message: ready.message } : {}),
      ...(e.status?.release ? { release: e.status.release } : {}),
    };
  });
}

export function startPromoter(repo: string, cron: string, isLeader: () => boolean, log: Logger, client?: KubeClient, namespace?: string, registry?: RegistryClient): { stop(): Promise<void> } {
  let running = false;
  let warned = false;
  // One run at a time by `running`, silently (node-cron's noOverlap warns on stderr at every tick a slow run covers).
  const task = schedule(cron, async () => {
    if (running || !isLeader()) return;
    running = true;
    try {
      const ws = await GitWorkspace.open(repo);
      await ws.syncBase(await ws.currentBranch());
      const remoteUrl = await ws.remoteUrl();
      // Without GitHub credentials there are no PRs to evaluate, but releases still move where pushes are
      // allowed (allowDirectPush, autoAbort: push); a move that needs a PR fails with GITHUB_TOKEN_MISSING.
      const github = tryConnectGitHub(remoteUrl ? { remoteUrl } : {});
      if (github) {
        const result = await runPolicy({ repo, github, autoPromote: true, progress: (message) => log.info({ action: "policy" }, message), ...(registry ? { registry } : {}) });
        log.info({ action: "promoter", evaluated: result.evaluated.length, autoPromoted: result.autoPromoted, skipped: result.skipped, merged: result.merged, mergeWaiting: result.mergeWaiting }, "promoter run finished");
      } else if (!warned) {
        warned = true;
        log.warn({ action: "promoter" }, "no GitHub credentials (GITHUB_TOKEN or a GitHub App): promotion PRs are not evaluated; releases move only where pushes are allowed");
      }
      if (registry && (await loadPipeline(repo)).environments.some((e) => e.imageWatch)) {
        const watched = await watch({ repo, registry, ...(github ? { github: () => github } : {}), progress: (message) => log.debug({ action: "watch" }, message) });
        for (const w of watched) {
          if (w.error) log.error({ action: "watch", env: w.env, code: w.error.code, err: w.error.oneLine() }, "registry watch failed");
          else if (w.action !== "up-to-date" && w.action !== "proposed") log.info({ action: "watch", env: w.env, result: w.action, pull: w.pull?.number, commit: w.commit, images: w.images }, `registry watch ${w.action}`);
        }
      }
      if (client) {
        const releases = await runReleases({ repo, live: await liveEnvironments(client, namespace), ...(github ? { github: () => github } : {}), progress: (message) => log.info({ action: "release" }, message) });
        for (const r of releases.filter((x) => x.decision.action !== "wait" || x.error)) log.info({ action: "release", env: r.env, decision: r.decision, commit: r.result?.commit, pull: r.result?.pull?.number, err: r.error }, `release ${r.decision.action}`);
      }
    } catch (e) {
      log.error({ action: "promoter", err: e instanceof Error ? e.message : String(e) }, "promoter run failed");
    } finally {
      running = false;
    }
  }, { name: "baton-promoter" });
  return { stop: async () => { await task.stop(); } };
}
