/**
 * The environment page's cluster and release parts, shaped purely: the release from git (what `baton render`
 * and `baton status` say: phase, steps and weights) and the agent's view from the Environment object
 * (conditions, inventory, applied revisions, drift) with its recent Events. The server only gathers the raw
 * objects; what the page shows is decided here, so it is unit-tested without a cluster or a browser.
 */
import { formatDuration } from "../config/duration.js";
import { imageShortName, shortDigest } from "../config/image-ref.js";
import type { Strategy } from "../config/pipeline.js";
import type { AppliedRevision, Condition, EnvironmentObject, EnvironmentStatus } from "../agent/environment.js";
import type { KubeObject } from "../config/objects.js";
import { parseInventoryEntry } from "../kube/inventory.js";
import { describeRelease, nextAction, releasePhase } from "../release/describe.js";
import type { ReleaseState } from "../release/slots.js";
import { waitsForConfirmation } from "../release/strategy.js";

/** How many Events the page lists per Environment, newest first. */
export const RECENT_EVENTS = 20;

export interface ReleaseStepView {
  /** 1-based, as `baton status` prints it. */
  number: number;
  /** setWeight N, pause 30s, or pause until baton confirm. */
  label: string;
  /** The candidate's share of traffic while this step is current. */
  weight: number;
  state: "done" | "current" | "next";
}

export interface ReleaseView {
  strategy: string;
  router: string;
  route: string;
  phase: string;
  /** The candidate's share of traffic now, in percent. */
  weight: number;
  stableSlot: string;
  candidateSlot: string;
  stable: Array<{ image: string; digest: string }>;
  /** While a candidate is out: what the candidate slot runs. */
  candidate?: Array<{ image: string; digest: string }>;
  steps: ReleaseStepView[];
  /** What happens next, in words (the promoter, or baton confirm). */
  next: string;
  /** The release lines `baton render` prints above the objects. */
  lines: string[];
}

const images = (map: Record<string, string>) => Object.entries(map).map(([repository, digest]) => ({ image: imageShortName(repository), digest: shortDigest(digest) }));

export function releaseView(strategy: Strategy, state: ReleaseState): ReleaseView {
  const current = state.step?.index;
  const steps = state.steps.map((step): ReleaseStepView => ({
    number: step.index + 1,
    label: step.kind === "setWeight" ? `setWeight ${step.weight}` : waitsForConfirmation(step) ? "pause until baton confirm" : `pause ${formatDuration(step.pauseMs ?? 0)}`,
    weight: step.weight,
    // Without a candidate out, no step is current: the next release starts at the first.
    state: current === undefined ? "next" : step.index < current ? "done" : step.index === current ? "current" : "next",
  }));
  return {
    strategy: strategy.type, router: strategy.router, route: strategy.route, phase: releasePhase(state), weight: state.weight,
    stableSlot: state.stableSlot, candidateSlot: state.candidateSlot, stable: images(state.stableImages),
    ...(state.step ? { candidate: images(state.pinnedImages) } : {}),
    steps, next: nextAction(state), lines: describeRelease(strategy, state),
  };
}

export interface InventoryRow {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
}

export interface EventRow {
  type: string;
  reason: string;
  message: string;
  count: number;
  /** When it last happened (ISO). */
  time: string;
}

/** One Environment object whose spec.path is this environment's folder, as the agent reports it. */
export interface ClusterEnvironmentView {
  namespace: string;
  name: string;
  conditions: Array<Pick<Condition, "type" | "status" | "reason" | "message" | "lastTransitionTime">>;
  revision?: string;
  attemptedRevision?: string;
  lastReconcileTime?: string;
  inventory: InventoryRow[];
  /** The agent's record of applied revisions, newest first. */
  applied: AppliedRevision[];
  drift?: { detectedAt: string; objects: string[] };
  /** The release as the agent last applied it (it may lag git until the next reconcile). */
  release?: { phase: string; weight: number; step?: number; steps: number };
  events: EventRow[];
}

/** The cluster part of the page: the objects found, or why there are none and what to do about it. */
export type ClusterPart =
  | { state: "ok"; environments: ClusterEnvironmentView[] }
  | { state: "not-configured" | "not-found" | "failed"; message: string; hint: string };

export const NO_KUBECONFIG: ClusterPart = {
  state: "not-configured",
  message: "No cluster is configured, so conditions, inventory and Events are not shown.",
  hint: "restart baton console with --kubeconfig FILE (and --namespace NS if the Environment objects live in one namespace); the chart's console reads the cluster with --in-cluster",
};

const apiVersionOf = (group: string, version: string) => (group ? `${group}/${version}` : version);

const text = (value: unknown): string | undefined => (typeof value === "string" && value !== "" ? value : undefined);

/** core/v1 Events carry lastTimestamp; events.k8s.io-written ones only eventTime. */
function eventTime(event: KubeObject): string {
  return text(event.lastTimestamp) ?? text(event.eventTime) ?? text(event.firstTimestamp) ?? text(event.metadata.creationTimestamp) ?? "";
}

export function eventRows(events: KubeObject[], limit = RECENT_EVENTS): EventRow[] {
  return events
    .map((e) => ({
      type: text(e.type) ?? "Normal", reason: text(e.reason) ?? "", message: text(e.message) ?? "",
      count: typeof e.count === "number" ? e.count : 1, time: eventTime(e),
    }))
    .sort((a, b) => b.time.localeCompare(a.time))
    .slice(0, limit);
}

export function clusterEnvironmentView(env: EnvironmentObject, events: KubeObject[]): ClusterEnvironmentView {
  const s: EnvironmentStatus = env.status ?? {};
  const view: ClusterEnvironmentView = {
    namespace: env.metadata.namespace ?? "", name: env.metadata.name,
    conditions: (s.conditions ?? []).map((c) => ({ type: c.type, status: c.status, reason: c.reason, message: c.message, lastTransitionTime: c.lastTransitionTime })),
    inventory: (s.inventory?.entries ?? []).map((entry) => {
      const id = parseInventoryEntry(entry);
      return { apiVersion: apiVersionOf(id.group, id.version), kind: id.kind, name: id.name, ...(id.namespace ? { namespace: id.namespace } : {}) };
    }).sort((a, b) => a.kind.localeCompare(b.kind) || (a.namespace ?? "").localeCompare(b.namespace ?? "") || a.name.localeCompare(b.name)),
    applied: [...(s.history ?? [])].reverse(),
    events: eventRows(events),
  };
  if (s.lastAppliedRevision) view.revision = s.lastAppliedRevision;
  if (s.lastAttemptedRevision) view.attemptedRevision = s.lastAttemptedRevision;
  if (s.lastReconcileTime) view.lastReconcileTime = s.lastReconcileTime;
  if (s.lastDrift) view.drift = s.lastDrift;
  if (s.release) view.release = { phase: s.release.phase, weight: s.release.weight, steps: s.release.steps, ...(s.release.step ? { step: s.release.step } : {}) };
  return view;
}

/** The page's cluster part from the Environment objects deploying `path` (none: say how to make one). */
export function clusterPart(path: string, found: Array<{ environment: EnvironmentObject; events: KubeObject[] }>): ClusterPart {
  if (found.length === 0) {
    return {
      state: "not-found", message: `No Environment object in the cluster deploys ${path}.`,
      hint: "create one with spec.path set to this folder (see the README's Environment reference), or point --namespace at the namespace that has it",
    };
  }
  return { state: "ok", environments: found.map((f) => clusterEnvironmentView(f.environment, f.events)) };
}
