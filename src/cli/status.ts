import type { Command } from "commander";
import { status } from "../promote/status.js";
import { imageShortName, shortDigest } from "../config/image-ref.js";
import { isRemoteChart } from "../config/pipeline.js";
import { GitWorkspace } from "../promote/git-workspace.js";
import { commonOptions, printJson, table } from "./output.js";
import { readClusters } from "../promote/cluster-status.js";
import { collect, openClusterReaders } from "./clusters.js";
import { addCommonFlags, GitHubFlagsSchema, optionalGitHub, parseFlags } from "./promotion-options.js";

export function registerStatus(program: Command): void {
  addCommonFlags(program
    .command("status")
    .description("environment × image → digest and tag from the repo, release phase and weights; open promotion PRs and deployment health from GitHub when GITHUB_TOKEN is set; the agent's revision, readiness and drift with --kubeconfig")
    .argument("[environment]", "only this environment, stage (all its targets) or target")
    .option("--kubeconfig <file>", "also read Environment objects from this cluster (repeat for several clusters)", collect)
    .option("--context <names>", "contexts of the kubeconfig to read, comma-separated: one cluster each (default: its current context)")
    .option("--namespace <ns>", "namespace(s) of the Environment objects, comma-separated (default: all)"), { dryRun: false })
    .action(async (only: string | undefined, raw: Record<string, unknown>) => {
      const opts = commonOptions(raw);
      const flags = parseFlags(GitHubFlagsSchema, raw);
      const readers = await openClusterReaders({
        ...(Array.isArray(raw.kubeconfig) ? { kubeconfig: raw.kubeconfig.map(String) } : {}),
        ...(typeof raw.context === "string" ? { context: raw.context } : {}),
        ...(typeof raw.namespace === "string" ? { namespace: raw.namespace } : {}),
      });
      const report = await status(opts.repo, async () => {
        const remote = await GitWorkspace.open(opts.repo).then((ws) => ws.remoteUrl()).catch(() => undefined);
        return optionalGitHub(flags, remote);
      }, readers.length > 0 ? () => readClusters(readers) : undefined, only).finally(() => readers.forEach((r) => r.close()));
      if (opts.output === "json") {
        printJson({ ok: true, ...report });
        return;
      }
      const rows = report.environments.flatMap((env) => {
        const name = env.stage ? `${env.name} (${env.stage} wave ${env.wave ?? 1})` : env.name;
        const prs = env.openPulls.map((p) => `#${p.number}`).join(",") || "-";
        const health = env.cluster ? `${env.cluster.ready === "True" ? "Ready" : "NotReady"}@${(env.cluster.revision ?? "-").slice(0, 7)}` : env.deployment ? `${env.deployment.state}@${env.deployment.sha.slice(0, 7)}` : "-";
        const drift = env.cluster?.drift?.length ? `drift reverted: ${env.cluster.drift.length} object(s)` : "";
        const release = env.release ? `${env.release.phase}${env.release.step ? ` (candidate ${env.release.weight}%, step ${env.release.step}/${env.release.steps})` : ` (slot ${env.release.stableSlot})`}` : "-";
        if (env.error) return [[name, "-", "-", "-", health, release, prs, `error: ${env.error}`]];
        if (env.images.length === 0) return [[name, "-", "-", "-", health, release, prs, drift]];
        return env.images.map((i) => [name, isRemoteChart(i.repository) ? `${imageShortName(i.repository)} (chart)` : imageShortName(i.repository), shortDigest(i.digest), i.tag ?? "-", health, release, prs, [i.rejected ? "REJECTED digest" : "", drift].filter(Boolean).join("; ")]);
      });
      console.log(table(["ENVIRONMENT", "IMAGE", "DIGEST", "TAG", "HEALTH", "RELEASE", "OPEN PRS", "NOTE"], rows));
      if (report.github === "failed") console.error(`warning: could not list open PRs: ${report.githubError}`);
      for (const c of report.clusters ?? []) if (c.error) console.error(`warning: cluster ${c.name}: ${c.error}; its environments show no health`);
    });
}
