/**
 * The scheduled promoter inside `baton agent --promoter-repo DIR`: on a node-cron schedule, and only on
 * the leader, it runs `baton policy --auto-promote` against a config repo clone. One run at a time.
 */
import { schedule } from "node-cron";
import { connectGitHub } from "../github/connect.js";
import type { Logger } from "../log.js";
import { GitWorkspace } from "../promote/git-workspace.js";
import { runPolicy } from "../promote/policy-run.js";

export function startPromoter(repo: string, cron: string, isLeader: () => boolean, log: Logger): { stop(): Promise<void> } {
  let running = false;
  const task = schedule(cron, async () => {
    if (running || !isLeader()) return;
    running = true;
    try {
      const ws = await GitWorkspace.open(repo);
      await ws.syncBase(await ws.currentBranch());
      const remoteUrl = await ws.remoteUrl();
      const github = connectGitHub(remoteUrl ? { remoteUrl } : {});
      const result = await runPolicy({ repo, github, autoPromote: true, progress: (message) => log.info({ action: "policy" }, message) });
      log.info({ action: "promoter", evaluated: result.evaluated.length, autoPromoted: result.autoPromoted, skipped: result.skipped }, "promoter run finished");
    } catch (e) {
      log.error({ action: "promoter", err: e instanceof Error ? e.message : String(e) }, "promoter run failed");
    } finally {
      running = false;
    }
  }, { name: "baton-promoter", noOverlap: true });
  return { stop: async () => { await task.stop(); } };
}
