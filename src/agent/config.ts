/** Agent settings from flags and environment variables, validated at the boundary. */
import os from "node:os";
import path from "node:path";
import { z } from "zod";
import { validate as validateCron } from "node-cron";
import { BatonError } from "../errors.js";
import { parseDuration } from "../config/duration.js";

/** A duration flag (`500ms`, `10s`) as milliseconds; numbers are taken as milliseconds. */
const durationMs = z.union([z.number().int().positive(), z.string().transform((s, ctx) => {
  const ms = parseDuration(s);
  if (ms === undefined || ms === 0) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: "is not a positive duration (e.g. 500ms, 10s)" });
    return z.NEVER;
  }
  return ms;
})]);

export const AgentConfigSchema = z.object({
  kubeconfig: z.string().optional(),
  /** The kubeconfig's context to use instead of its current-context. */
  context: z.string().min(1).optional(),
  namespace: z.string().optional(),
  port: z.coerce.number().int().min(0).max(65535).default(8080),
  bindAddress: z.string().default("0.0.0.0"),
  /** Port for /metrics, apart from the webhook's; default: port + 1 (0 when port is 0: any free port). */
  metricsPort: z.coerce.number().int().min(0).max(65535).optional(),
  cacheDir: z.string().default(path.join(os.tmpdir(), "baton-cache")),
  concurrency: z.coerce.number().int().min(1).max(64).default(8),
  leaderElect: z.boolean().default(true),
  leaseNamespace: z.string().default("default"),
  leaseName: z.string().default("baton-agent"),
  leaseDurationSeconds: z.coerce.number().int().min(1).max(300).default(15),
  /** How long a leader keeps leading without renewing (default: 2/3 of the lease). */
  renewDeadline: durationMs.optional(),
  /** Pause between acquire/renew attempts (default: lease / 7.5). */
  retryPeriod: durationMs.optional(),
  /** Deadline of one git operation, and the bytes a git server may send in one. */
  gitTimeout: durationMs.default(60_000),
  gitMaxBytes: z.coerce.number().int().min(1024).default(64 * 1024 * 1024),
  /** Git network operations (ls-remote, fetch) in flight at once across all Environments. */
  gitConcurrency: z.coerce.number().int().min(1).max(64).default(4),
  /** Reconciles in flight at once across all Environments (a run waiting on health gives its slot back). */
  maxConcurrentReconciles: z.coerce.number().int().min(1).max(256).default(4),
  identity: z.string().default(`${os.hostname()}-${process.pid}`),
  resyncMs: z.coerce.number().int().min(100).default(5000),
  webhookSecret: z.string().optional(),
  /** Accept http:// config repo URLs (local development and the test harness's git server). */
  allowInsecureHttp: z.boolean().default(false),
  /** A clone of the config repo (with push rights) for the scheduled promoter; unset = no promoter. */
  promoterRepo: z.string().optional(),
  promoterSchedule: z.string().default("*/5 * * * *").refine((s) => validateCron(s), "is not a cron expression"),
  /** docker config.json with registry credentials for signature checks (verify) and the promoter's registry watch (imageWatch). */
  registryConfig: z.string().min(1).optional(),
  /** Refuse objects outside each Environment's namespaces, and cluster-scoped kinds it does not list. */
  noCrossNamespaceObjects: z.boolean().default(false),
  /** Impersonate this ServiceAccount (in the Environment's namespace) for Environments that name none: impersonation for all. */
  defaultServiceAccount: z.string().regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, "must be a ServiceAccount name").optional(),
  logLevel: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  /** This agent's shard (0-based) of `shards`: it reconciles only the Environments that hash to it. */
  shard: z.coerce.number().int().min(0).default(0),
  shards: z.coerce.number().int().min(1).max(1024).default(1),
}).refine((c) => c.shard < c.shards, { path: ["shard"], message: "must be below --shards (shards are numbered from 0)" });

export type AgentConfig = z.infer<typeof AgentConfigSchema>;

export function parseAgentConfig(raw: Record<string, unknown>): AgentConfig {
  const result = AgentConfigSchema.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new BatonError("USAGE", `--${issue?.path.join(".") ?? "?"} ${issue?.message ?? "is invalid"}`, { field: issue?.path.join("."), hint: "see baton agent --help" });
  }
  return result.data;
}
