import type { Command } from "commander";
import { startAgent } from "../agent/agent.js";
import { parseAgentConfig } from "../agent/config.js";
import { createLogger } from "../log.js";

export function registerAgent(program: Command): void {
  program
    .command("agent")
    .description("run the in-cluster agent: reconcile every Environment in scope from git (fetch, render, apply, prune, health)")
    .option("--kubeconfig <file>", "kubeconfig (default: $KUBECONFIG, ~/.kube/config, or in-cluster)")
    .option("--context <name>", "kubeconfig context to use (default: its current-context)")
    .option("--namespace <ns>", "watch Environments only in these namespaces, comma-separated (default: all)", process.env.BATON_NAMESPACE)
    .option("--port <port>", "HTTP port for /healthz /readyz /webhook", process.env.BATON_PORT ?? "8080")
    .option("--metrics-port <port>", "HTTP port for /metrics, apart from the webhook (default: --port + 1)")
    .option("--bind-address <addr>", "HTTP bind address", "0.0.0.0")
    .option("--cache-dir <dir>", "where git checkouts are kept", process.env.BATON_CACHE_DIR)
    .option("--concurrency <n>", "objects applied in parallel", "8")
    .option("--git-timeout <duration>", "deadline of one git fetch (a slower server counts as down)", "60s")
    .option("--git-max-bytes <n>", "bytes a git server may send in one fetch", String(64 * 1024 * 1024))
    .option("--git-concurrency <n>", "git fetches and ls-remotes in flight at once, across all Environments (Environments of one repository, branch and credentials share them)", "4")
    .option("--max-concurrent-reconciles <n>", "Environments reconciled at once (fetch, render, apply; a run waiting on health holds no slot); others queue, one run per Environment at a time", "4")
    .option("--no-leader-elect", "run without leader election (single replica only)")
    .option("--lease-namespace <ns>", "namespace of the leader-election Lease", process.env.POD_NAMESPACE ?? "default")
    .option("--lease-name <name>", "name of the leader-election Lease", "baton-agent")
    .option("--lease-duration-seconds <n>", "a standby takes over after it saw no renewal for this long", "15")
    .option("--renew-deadline <duration>", "the leader stops writing when it could not renew for this long (default: 2/3 of the lease)")
    .option("--retry-period <duration>", "pause between attempts to acquire or renew the lease (default: lease / 7.5)")
    .option("--promoter-repo <dir>", "run the scheduled promoter (baton policy --auto-promote) on this config repo clone; needs GITHUB_TOKEN")
    .option("--promoter-schedule <cron>", "when the promoter runs (node-cron syntax)", "*/5 * * * *")
    .option("--registry-config <file>", "docker config.json with registry credentials for signature checks (verify) and the promoter's imageWatch (e.g. a mounted kubernetes.io/dockerconfigjson Secret); default: anonymous")
    .option("--allow-insecure-http", "accept http:// config repo URLs (local development only; production repos must be https://)")
    .option("--no-cross-namespace-objects", "refuse objects outside an Environment's namespace, targetNamespace and spec.allowedNamespaces, and cluster-scoped kinds it does not list in spec.allowedClusterResources")
    .option("--default-service-account <name>", "impersonate this ServiceAccount (in the Environment's namespace) for Environments without spec.serviceAccountName: impersonation for all")
    .option("--shard <i>", "reconcile only the Environments of this shard (0-based; with --shards)", process.env.BATON_SHARD ?? "0")
    .option("--shards <n>", "number of agent shards splitting the Environments by a hash of namespace/name; each shard elects its own leader (Lease <lease-name>-shard-<i>)", process.env.BATON_SHARDS ?? "1")
    .option("--log-level <level>", "fatal|error|warn|info|debug|trace", process.env.BATON_LOG_LEVEL ?? "info")
    .action(async (raw: Record<string, unknown>) => {
      // commander reads `--no-cross-namespace-objects` as the negation of a `crossNamespaceObjects` option.
      const { crossNamespaceObjects, ...rest } = raw;
      const config = parseAgentConfig({ ...rest, noCrossNamespaceObjects: crossNamespaceObjects === false, webhookSecret: process.env.BATON_WEBHOOK_SECRET, ...(process.env.POD_NAME ? { identity: process.env.POD_NAME } : {}) });
      const log = createLogger(config.logLevel);
      const agent = await startAgent(config, log);
      await new Promise<void>((resolve) => {
        const shutdown = (signal: string) => {
          log.info({ signal }, "shutting down");
          void agent.stop().then(resolve);
        };
        process.once("SIGTERM", () => shutdown("SIGTERM"));
        process.once("SIGINT", () => shutdown("SIGINT"));
      });
    });
}
