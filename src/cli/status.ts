import type { Command } from "commander";
import { status } from "../promote/status.js";
import { imageShortName, shortDigest } from "../config/image-ref.js";
import { isRemoteChart } from "../config/pipeline.js";
import { GitWorkspace } from "../promote/git-workspace.js";
import { commonOptions, printJson, table } from "./output.js";
import { ENV_API_VERSION, ENV_KIND, type EnvironmentObject } from "../agent/environment.js";
import type { ClusterEnvironment } from "../promote/status.js";
import type { KubeClient } from "../kube/client.js";

/** The agent's status of every Environment the kubeconfig can see. */
export async function clusterEnvironments(kubeconfig: string, namespace: string | undefined): Promise<ClusterEnvironment[]> {
  // Loaded here, not at the top: the Kubernetes client costs about a second of CPU, and most `baton status`
  // runs read only the repo (and GitHub).
  const [{ KubeClient }, { loadKubeConfig }] = await Promise.all([import("../kube/client.js"), import("../kube/kubeconfig.js")]);
  const client = new KubeClient(loadKubeConfig(kubeconfig));
  try {
    return await listClusterEnvironments(client, namespace);
  } finally {
    client.close();
  }
}

/** The same through a client that stays open (the console asks on every board). */
export async function listClusterEnvironments(client: KubeClient, namespace: string | undefined): Promise<ClusterEnvironment[]> {
  const items = (await client.list(ENV_API_VERSION, ENV_KIND, namespace)) as EnvironmentObject[];
  return items.map((e) => {
    const ready = e.status?.conditions?.find((c) => c.type === "Ready");
    const spec = e.spec as { path?: string };
    return {
      path: spec.path ?? "", ready: ready?.status ?? "Unknown",
      ...(e.status?.lastAppliedRevision ? { revision: e.status.lastAppliedRevision } : {}),
      ...(ready?.message ? { message: ready.message } : {}),
      ...(e.status?.lastDrift ? { drift: e.status.lastDrift.objects } : {}),
    };
  });
}
import { addCommonFlags, GitHubFlagsSchema, optionalGitHub, parseFlags } from "./promotion-options.js";

export function registerStatus(program: Command): void {
  addCommonFlags(program
    .command("status")
    .description("environment × image → digest and tag from the repo, release phase and weights; open promotion PRs and deployment health from GitHub when GITHUB_TOKEN is set; the agent's revision, readiness and drift with --kubeconfig")
    .argument("[environment]", "only this environment, stage (all its targets) or target")
    .option("--kubeconfig <file>", "also read Environment objects from this cluster")
    .option("--namespace <ns>", "namespace of the Environment objects (default: all)"), { dryRun: false })
    .action(async (only: string | undefined, raw: Record<string, unknown>) => {
      const opts = commonOptions(raw);
      const flags = parseFlags(GitHubFlagsSchema, raw);
      const report = await status(opts.repo, async () => {
        const remote = await GitWorkspace.open(opts.repo).then((ws) => ws.remoteUrl()).catch(() => undefined);
        return optionalGitHub(flags, remote);
      }, typeof raw.kubeconfig === "string" ? () => clusterEnvironments(raw.kubeconfig as string, typeof raw.namespace === "string" ? raw.namespace : undefined) : undefined, only);
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
    });
}
