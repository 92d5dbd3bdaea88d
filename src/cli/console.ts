import path from "node:path";
import type { Command } from "commander";
import { z } from "zod";
import { isLoopbackAddress } from "../console/guard.js";
import { startConsole } from "../console/server.js";
import { parseDuration } from "../config/duration.js";
import { createLogger } from "../log.js";
import { collect, openClusterReaders } from "./clusters.js";
import { readClusters } from "../promote/cluster-status.js";
import { ensureClone, useGitToken } from "../console/clone.js";
import { environmentsDeployingIn } from "../console/cluster.js";
import { githubFactory, optionalGitHub, parseFlags } from "./promotion-options.js";
import { GitWorkspace } from "../promote/git-workspace.js";

const durationAtLeast = (minMs: number, example: string) => z.string().transform((text, ctx) => {
  const ms = parseDuration(text);
  if (ms === undefined || ms < minMs) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: `must be a duration of at least ${minMs}ms, e.g. ${example} (not "${text}")` });
    return z.NEVER;
  }
  return ms;
});

const ConsoleFlagsSchema = z.object({
  repo: z.string().default("."),
  port: z.coerce.number({ invalid_type_error: "--port must be a number" }).int().min(0, "--port must be 0-65535").max(65535, "--port must be 0-65535"),
  listen: z.string().min(1).default("127.0.0.1"),
  kubeconfig: z.array(z.string()).optional(),
  context: z.string().optional(),
  namespace: z.string().optional(),
  poll: durationAtLeast(200, "5s"),
  pull: durationAtLeast(1000, "30s").optional(),
  clone: z.string().url("--clone must be the config repo's clone URL, e.g. https://github.com/acme/config.git").optional(),
  branch: z.string().min(1).default("main"),
  inCluster: z.boolean().default(false),
  readOnly: z.boolean().default(false),
  logLevel: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("warn"),
});

export function registerConsole(program: Command): void {
  program
    .command("console")
    .description("serve the release board in a browser on 127.0.0.1: environments × images (digest, tag, last change) and each environment's history from the clone, updated live as the clone gets new commits; the agent's status with --kubeconfig; open PRs and deployments when GITHUB_TOKEN is set; promote, roll back, confirm and abort buttons that open the PRs the CLI opens")
    .option("--repo <dir>", "config repo clone", ".")
    .option("--port <n>", "port to listen on (0 picks a free one)", "7420")
    .option("--listen <address>", "listen on this address instead of 127.0.0.1; anything but loopback needs BATON_CONSOLE_TOKEN (16+ characters)")
    .option("--poll <duration>", "while a page is open, how often the clone is checked for new commits to push to it", "5s")
    .option("--pull <duration>", "fetch and fast-forward the clone's branch this often (e.g. 30s), so merged PRs show without a git pull")
    .option("--clone <url>", "clone this config repo into --repo first when that folder is empty or missing (token for a private repo: BATON_GIT_TOKEN)")
    .option("--branch <name>", "the branch --clone checks out", "main")
    .option("--in-cluster", "read the cluster with the pod's ServiceAccount (the chart's console) instead of --kubeconfig")
    .option("--kubeconfig <file>", "also show the agent's Environment status from this cluster: readiness on the board; conditions, inventory and Events on each environment's page (repeat for several clusters; one that cannot be read is marked on the board, the others still show)", collect)
    .option("--context <names>", "contexts of the kubeconfig to read, comma-separated: one cluster each (default: its current context)")
    .option("--namespace <ns>", "namespace(s) of the Environment objects, comma-separated (default: all)")
    .option("--read-only", "show the board only: no promote, rollback, confirm or abort buttons (the API refuses actions)")
    .option("--log-level <level>", "fatal|error|warn|info|debug|trace", "warn")
    .action(async (raw: Record<string, unknown>) => {
      const flags = parseFlags(ConsoleFlagsSchema, raw);
      const log = createLogger(flags.logLevel);
      if (flags.clone) {
        useGitToken(process.env.BATON_GIT_TOKEN);
        if (await ensureClone(flags.clone, flags.branch, path.resolve(flags.repo))) log.info({ action: "console-clone", branch: flags.branch }, "cloned the config repo");
      }
      // One client per cluster for the console's life: discovery and connections are reused by every board and page.
      const readers = await openClusterReaders(flags);
      const token = process.env.BATON_CONSOLE_TOKEN;
      const running = await startConsole({
        repo: path.resolve(flags.repo), host: flags.listen, port: flags.port, log, pollMs: flags.poll, ...(flags.pull ? { pullMs: flags.pull } : {}),
        ...(token ? { token } : {}), readOnly: flags.readOnly,
        // Actions open their PRs with the CLI's GitHub connection (GITHUB_TOKEN or App credentials, GITHUB_API_URL).
        actionsGitHub: githubFactory({ dryRun: false }),
        ...(readers.length > 0 ? {
          cluster: () => readClusters(readers),
          environmentDetail: (folder: string) => environmentsDeployingIn(readers, folder),
        } : {}),
        // GITHUB_TOKEN (and GITHUB_API_URL) as for baton status: open PRs and deployments; absent, repo only.
        github: async () => optionalGitHub({ dryRun: false }, await GitWorkspace.open(path.resolve(flags.repo)).then((ws) => ws.remoteUrl()).catch(() => undefined)),
      });
      // The token is never printed: the person has it in their environment already.
      console.log(`baton console: ${running.url}${isLoopbackAddress(flags.listen) ? "" : "?token=<BATON_CONSOLE_TOKEN>"}  (Ctrl-C to stop)`);
      await new Promise<void>((resolve) => {
        const stop = () => void running.close().then(() => readers.forEach((r) => r.close())).then(resolve);
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
      });
    });
}
