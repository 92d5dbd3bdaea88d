/** What every reconcile step may use, and the typed result of each step. */
import type { NotifierSpec, PipelineEnvironment } from "../../config/pipeline.js";
import type { RenderedObject } from "../../config/objects.js";
import type { FetchOptions, GitAuth } from "../../git/fetch.js";
import type { GitSources, SourceRef } from "../../git/sources.js";
import type { HealthStatus } from "../../kube/health/index.js";
import type { AccessReviews } from "../../kube/access.js";
import type { KubeClient } from "../../kube/client.js";
import type { InventoryEntry } from "../../kube/inventory.js";
import type { ChangeSetEntry, ResourceManager } from "../../kube/manager.js";
import type { Owner } from "../../kube/ownership.js";
import type { Plan } from "../../kube/plan.js";
import type { ApplyRender } from "../../release/render.js";
import type { Logger } from "../../log.js";
import type { RegistryClient } from "../../registry/client.js";
import type { EnvironmentObject, EnvironmentSpec } from "../environment.js";
import type { RenderCache } from "./render.js";

export interface StepContext {
  env: EnvironmentObject;
  spec: EnvironmentSpec;
  owner: Owner;
  log: Logger;
  /** The agent's own identity: reads the Environment's git Secret and discovers the API. */
  agent: KubeClient;
  /** The identity the Environment's objects are read, written and pruned as (impersonated when it names a ServiceAccount). */
  kube: KubeClient;
  manager: ResourceManager;
  /** status.inventory.entries as this run found them. */
  previous: InventoryEntry[];
  sources: GitSources;
  /** How old a remote head the fetch may use (see GitSources.head). */
  sourceMaxAgeMs: number;
  /** The run was triggered by a push: the branch moved, so the fetch need not check the head first. */
  sourceMoved: boolean;
  /** Told which source the run reads (the agent's poller checks it every interval from then on). */
  onSource?: (ref: SourceRef) => void;
  /** Told when the run only waits for health: its work-queue slot goes to another Environment meanwhile. */
  onWaiting?: () => void;
  concurrency: number;
  git: FetchOptions;
  noCrossNamespaceObjects: boolean;
  healthPollMs: number;
  /** Reads image signatures for baton.yaml's `verify` (with the agent's --registry-config credentials). */
  registry: RegistryClient;
  signal?: AbortSignal;
  /** The agent's last render of each Environment, reused while the revision, spec and discovery stay (absent: render every run). */
  renders?: RenderCache;
  /** Allowed access reviews the plan's preflight may reuse (absent: every check is asked). */
  accessReviews?: AccessReviews;
  /**
   * The inventory is the one status field written during the work: before the first object is created it
   * must hold it (so a run cut short never orphans an object), and after apply and prune it holds what is
   * live. `required` writes fail the step when they cannot be made.
   */
  recordInventory(entries: InventoryEntry[], options?: { required: boolean }): Promise<void>;
}

export interface Fetched {
  revision: string;
  dir: string;
  credentials: { git?: GitAuth; githubToken?: string };
  /** The checkout is shared and read-only; the run releases it when done (see GitSources.checkout). */
  release?: () => void;
}

export interface Rendered {
  envSpec: PipelineEnvironment;
  notifiers?: NotifierSpec[];
  render: ApplyRender;
}

/** What made the fetched commit acceptable (empty when the Environment asks for no check). */
export interface Trusted {
  /** The key that signed the head commit (spec.verify). */
  signer?: string;
}

/** The signature check of every pinned image (empty when baton.yaml asks for none). */
export interface Verified {
  images: Array<{ repository: string; digest: string; key: string }>;
}

export interface Planned {
  desired: RenderedObject[];
  plan: Plan;
  /** spec.prune and the pipeline's prune both allow deleting what git dropped. */
  pruning: boolean;
  /** Something will be written or deleted, or this Environment was never applied: a deployment to record. */
  deploys: boolean;
}

export interface Applied {
  changes: ChangeSetEntry[];
  /** The inventory of the desired objects, with their content hashes. */
  inventory: InventoryEntry[];
}

export interface Pruned {
  changes: ChangeSetEntry[];
}

/** How the health wait ended: settled (healthy, failed or timed out), cut short by a newer commit, or by the end of the term. */
export type HealthOutcome =
  | { kind: "settled"; status: HealthStatus; notReady: string; waited?: string }
  | { kind: "superseded"; waited?: string }
  | { kind: "interrupted" };

export interface ReconcileOutputs {
  fetch: Fetched;
  trust: Trusted;
  render: Rendered;
  verify: Verified;
  plan: Planned;
  apply: Applied;
  prune: Pruned;
  health: HealthOutcome;
}
