/**
 * The `Environment` custom resource (environments.baton.dev/v1alpha1): what one agent reconciles.
 * The spec is user input, so it is validated with a schema; a bad spec stalls that Environment only.
 */
import { z } from "zod";
import { BatonError } from "../errors.js";
import { parseDuration } from "../config/duration.js";
import type { KubeObject } from "../config/objects.js";
import type { InventoryEntry } from "../kube/inventory.js";
import { MAX_LABEL_VALUE } from "../kube/ownership.js";

export const ENV_GROUP = "baton.dev";
export const ENV_VERSION = "v1alpha1";
export const ENV_API_VERSION = `${ENV_GROUP}/${ENV_VERSION}`;
export const ENV_KIND = "Environment";

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const duration = (fallback: string) => z.string().default(fallback).refine((s) => parseDuration(s) !== undefined, "is not a duration (e.g. 30s, 5m, 1h)");

export const EnvironmentSpecSchema = z.object({
  url: z.string().url("must be the config repo's http(s) clone URL"),
  branch: z.string().min(1).default("main"),
  path: z.string().min(1, "must name the environment's folder in the repo, e.g. environments/staging"),
  secretRef: z.object({ name: z.string().min(1) }).optional(),
  // A floor: `0s` or `10ms` re-fetched in a loop (18 git requests a second at idle). Pushes reach the agent
  // through the webhook faster than any interval.
  interval: duration("1m").refine((s) => (parseDuration(s) ?? 0) >= 1000, "must be at least 1s (for faster reaction, send GitHub push webhooks to the agent)"),
  timeout: duration("2m"),
  prune: z.boolean().default(true),
  /** Allow a render of zero objects to prune everything (off: an empty render is treated as a mistake). */
  allowEmpty: z.boolean().default(false),
  /** Every namespaced object goes to this namespace (overriding what the manifest says). */
  targetNamespace: z.string().regex(DNS_LABEL, "must be a namespace name").optional(),
  /** Extra namespaces this Environment may write to (besides its own and targetNamespace). Setting it restricts the Environment. */
  allowedNamespaces: z.array(z.string().regex(DNS_LABEL, "must be a namespace name")).optional(),
  /** Cluster-scoped kinds this Environment may write, e.g. [{group: "", kind: Namespace}]. Setting it restricts the Environment. */
  allowedClusterResources: z.array(z.object({ group: z.string(), kind: z.string().min(1) }).strict()).optional(),
  /** Every read, write and prune for this Environment impersonates this ServiceAccount of the Environment's namespace. */
  serviceAccountName: z.string().regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, "must be a ServiceAccount name").max(253).optional(),
  suspend: z.boolean().default(false),
  /** On this Environment's own objects, take over fields another server-side applier owns (never another owner's object: that is baton.dev/adopt). */
  force: z.boolean().default(false),
  /**
   * Apply only commits signed by a trusted key (Flux GitRepository's spec.verify): the branch head must be
   * signed by an OpenPGP or SSH public key held in this Secret of the Environment's namespace.
   */
  verify: z.object({
    mode: z.enum(["HEAD"], { message: "must be HEAD (the branch head commit is verified; tags are not followed)" }).default("HEAD"),
    secretRef: z.object({ name: z.string().min(1, "must name a Secret with the trusted public keys") }),
  }).strict().optional(),
  /**
   * Apply a branch head that does not descend from the last applied revision (history rewritten by a
   * force push, or the Environment moved to another branch). Off: such a head is refused.
   */
  allowNonFastForward: z.boolean().default(false),
  /** Report each applied revision as a GitHub Deployment (token from the secret's `githubToken`). */
  github: z.object({
    repository: z.string().regex(/^[\w.-]+\/[\w.-]+$/, "must be owner/name"),
    environment: z.string().optional(),
    apiUrl: z.string().url().optional(),
  }).optional(),
});

export type EnvironmentSpec = z.infer<typeof EnvironmentSpecSchema>;

export interface Condition {
  type: "Ready" | "Reconciling" | "Stalled";
  status: "True" | "False" | "Unknown";
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration?: number;
}

/** One applied revision in `status.history` (the agent's record; `baton history` reads git instead). */
export interface AppliedRevision {
  revision: string;
  appliedAt: string;
  result: "Ready" | "Failed" | "Progressing";
  message: string;
  pins?: Record<string, string>;
}

export interface EnvironmentStatus {
  observedGeneration?: number;
  conditions?: Condition[];
  lastAppliedRevision?: string;
  lastAttemptedRevision?: string;
  lastReconcileTime?: string;
  health?: string;
  pins?: Record<string, string>;
  inventory?: { entries: InventoryEntry[] };
  history?: AppliedRevision[];
  lastDrift?: { detectedAt: string; objects: string[] };
  /** Progressive delivery: where the release in git stands (derived from the applied revision). */
  release?: ReleaseStatus;
}

export interface ReleaseStatus {
  /** Stable, Progressing, PendingConfirmation, Paused N%, Confirmed, Aborted (printer column). */
  phase: string;
  strategy: string;
  /** The candidate's share of traffic in percent. */
  weight: number;
  /** 1-based step while a candidate is out. */
  step?: number;
  steps: number;
  stableSlot: string;
  stableImages: Record<string, string>;
  candidateImages?: Record<string, string>;
  /** Since when the current step has been healthy (the promoter's clock for timed pauses). */
  healthySince?: string;
}

export interface EnvironmentObject extends KubeObject {
  spec: unknown;
  status?: EnvironmentStatus;
}

export function parseEnvironmentSpec(env: EnvironmentObject): EnvironmentSpec {
  // The name becomes the value of the owner label on every object it applies.
  if (env.metadata.name.length > MAX_LABEL_VALUE) {
    throw new BatonError("PIPELINE_SCHEMA", `Environment name "${env.metadata.name}" is longer than ${MAX_LABEL_VALUE} characters`, {
      object: `${ENV_KIND} ${env.metadata.namespace}/${env.metadata.name}`, field: "metadata.name", hint: "the name is written into a label on every object; choose a name of at most 63 characters",
    });
  }
  const result = EnvironmentSpecSchema.safeParse(env.spec);
  if (!result.success) {
    const issue = result.error.issues[0];
    const field = `spec.${issue?.path.join(".") ?? ""}`;
    throw new BatonError("PIPELINE_SCHEMA", `${field} ${issue?.message ?? "is invalid"}`, {
      object: `${ENV_KIND} ${env.metadata.namespace}/${env.metadata.name}`, field, hint: "fix the Environment spec (kubectl explain environments.spec)",
    });
  }
  return result.data;
}

export const envKey = (env: { metadata: { namespace?: string; name: string } }): string => `${env.metadata.namespace ?? ""}/${env.metadata.name}`;

/** Sets one condition, keeping lastTransitionTime when the status did not change. */
export function setCondition(conditions: Condition[] | undefined, next: Omit<Condition, "lastTransitionTime">, now: Date): Condition[] {
  const list = [...(conditions ?? [])];
  const i = list.findIndex((c) => c.type === next.type);
  const prev = i === -1 ? undefined : list[i];
  const cond: Condition = { ...next, lastTransitionTime: prev && prev.status === next.status ? prev.lastTransitionTime : now.toISOString() };
  if (i === -1) list.push(cond);
  else list[i] = cond;
  return list;
}

export const HISTORY_LIMIT = 10;

export function appendHistory(history: AppliedRevision[] | undefined, entry: AppliedRevision): AppliedRevision[] {
  const list = [...(history ?? [])];
  const last = list[list.length - 1];
  if (last && last.revision === entry.revision) list[list.length - 1] = { ...last, ...entry, appliedAt: last.appliedAt };
  else list.push(entry);
  return list.slice(-HISTORY_LIMIT);
}
