/**
 * Who owns a live object, and what Baton may therefore do with it: pure decisions, made while planning
 * (before any write) and while pruning. An Environment owns what carries both its name and its namespace
 * as labels (like Flux's `kustomize.toolkit.fluxcd.io/name` + `/namespace`), so `team-a/prod` and
 * `team-b/prod` never see each other's objects. Baton never takes an object from another Environment, and
 * takes one from Helm, kubectl or another tool only when git marks it with `baton.dev/adopt: "true"`.
 */
import { BatonError } from "../errors.js";
import { formatId, idKey, objectId, type KubeObject, type ObjectId, type RenderedObject } from "../config/objects.js";
import { inventoryKey } from "./inventory.js";

export const MANAGED_BY_LABEL = "app.kubernetes.io/managed-by";
export const ENVIRONMENT_LABEL = "baton.dev/environment";
export const ENVIRONMENT_NAMESPACE_LABEL = "baton.dev/environment-namespace";
export const ADOPT_ANNOTATION = "baton.dev/adopt";
export const PRUNE_ANNOTATION = "baton.dev/prune";
export const FIELD_MANAGER = "baton";

/** Label values are at most 63 characters; namespaces are DNS labels, Environment names are checked. */
export const MAX_LABEL_VALUE = 63;

/** The Environment object (namespace/name) that applies an object. */
export interface Owner {
  namespace: string;
  name: string;
}

export function ownerLabels(owner: Owner): Record<string, string> {
  return { [MANAGED_BY_LABEL]: "baton", [ENVIRONMENT_LABEL]: owner.name, [ENVIRONMENT_NAMESPACE_LABEL]: owner.namespace };
}

/**
 * Selects this Environment's objects, and those of same-named Environments in other namespaces: the
 * namespace label is checked per object, so objects labelled by a Baton that did not record the
 * namespace yet are still found (see ownershipOf).
 */
export const ownerSelector = (owner: Owner): string => `${ENVIRONMENT_LABEL}=${owner.name}`;

export type Ownership =
  | { state: "ours" }
  /** No manager but Baton (or none at all): applying it takes nothing from anyone. */
  | { state: "free" }
  /** `adoptable`: git may take it with baton.dev/adopt; never true for another Environment's object. */
  | { state: "foreign"; owner: string; adoptable: boolean };

interface ManagedField { manager?: string; operation?: string }

/**
 * Ownership of an existing object for the Environment `owner`. `inInventory`: the Environment applied it
 * last time (its status says so); that recognises objects labelled before the namespace label existed.
 */
export function ownershipOf(live: KubeObject, owner: Owner, inInventory: boolean): Ownership {
  const labels = live.metadata.labels ?? {};
  const env = labels[ENVIRONMENT_LABEL];
  const envNamespace = labels[ENVIRONMENT_NAMESPACE_LABEL];
  if (env !== undefined) {
    if (env === owner.name && envNamespace === owner.namespace) return { state: "ours" };
    if (env === owner.name && envNamespace === undefined) {
      return inInventory ? { state: "ours" } : { state: "foreign", owner: `an Environment named ${env} (labelled by an earlier Baton, namespace not recorded)`, adoptable: false };
    }
    return { state: "foreign", owner: `Environment ${envNamespace ?? "?"}/${env}`, adoptable: false };
  }
  const helm = helmRelease(live);
  if (helm) return { state: "foreign", owner: helm, adoptable: true };
  // Applied by this Environment last time and someone removed the labels: drift, git wins.
  if (inInventory) return { state: "ours" };
  const others = otherManagers(live);
  if (others.length > 0) return { state: "foreign", owner: `field manager${others.length > 1 ? "s" : ""} ${others.join(", ")}`, adoptable: true };
  return { state: "free" };
}

function helmRelease(live: KubeObject): string | undefined {
  const release = live.metadata.annotations?.["meta.helm.sh/release-name"];
  const releaseNamespace = live.metadata.annotations?.["meta.helm.sh/release-namespace"];
  if (release) return `Helm release ${releaseNamespace ? `${releaseNamespace}/` : ""}${release}`;
  if (live.metadata.labels?.[MANAGED_BY_LABEL] === "Helm") return "Helm";
  return undefined;
}

function otherManagers(live: KubeObject): string[] {
  const fields = (live.metadata.managedFields ?? []) as ManagedField[];
  const names = fields.filter((f) => f.manager && f.manager !== FIELD_MANAGER && (f.operation === "Apply" || f.operation === "Update")).map((f) => f.manager as string);
  return [...new Set(names)].sort();
}

export const wantsAdoption = (obj: KubeObject): boolean => obj.metadata.annotations?.[ADOPT_ANNOTATION] === "true";

export interface Classified {
  /** Existing objects Baton may apply over: its own, free ones, and foreign ones git adopts. */
  live: Map<string, KubeObject>;
  /** Existing desired objects someone else owns, git adoption or not (conflicts are decided from these). */
  foreign: Map<string, Extract<Ownership, { state: "foreign" }>>;
}

/**
 * Sorts existing objects (keyed by idKey) found for the desired ones. `inventory`: inventory keys of
 * what this Environment applied last time. Objects that are not desired are ignored.
 */
export function classifyExisting(owner: Owner, desired: RenderedObject[], inventory: ReadonlySet<string>, existing: KubeObject[]): Classified {
  const wanted = new Map(desired.map((d) => [idKey(d.id), d]));
  const result: Classified = { live: new Map(), foreign: new Map() };
  for (const item of existing) {
    const id = objectId(item);
    const key = idKey(id);
    const d = wanted.get(key);
    if (!d) continue;
    const ownership = ownershipOf(item, owner, inventory.has(inventoryKey(id)));
    if (ownership.state === "foreign") {
      result.foreign.set(key, ownership);
      if (ownership.adoptable && wantsAdoption(d.object)) result.live.set(key, item);
    } else result.live.set(key, item);
  }
  return result;
}

/**
 * One error per desired object that exists and belongs to someone else and is not adopted by git.
 * Reported together, before anything is applied.
 */
export function ownershipConflicts(desired: RenderedObject[], foreign: Classified["foreign"]): BatonError[] {
  const errors: BatonError[] = [];
  for (const d of desired) {
    const o = foreign.get(idKey(d.id));
    if (!o || (o.adoptable && wantsAdoption(d.object))) continue;
    const object = formatId(d.id);
    errors.push(new BatonError("OWNERSHIP_CONFLICT", `${object} already exists and belongs to ${o.owner}`, {
      file: d.source.file, object,
      hint: o.adoptable
        ? `leave it to its owner, or take it over by adding the annotation ${ADOPT_ANNOTATION}: "true" to it in git`
        : "an object belongs to one Environment: remove it from the other Environment's folder first, or rename it",
    }));
  }
  return errors;
}

/**
 * Why a live object that left git must not be deleted (undefined: it may be). It must still carry this
 * Environment's owner labels (name-only labels of an earlier Baton count: the caller only prunes what the
 * inventory lists) and not opt out with `baton.dev/prune: disabled`.
 */
export function pruneRefusal(live: KubeObject, owner: Owner): string | undefined {
  const labels = live.metadata.labels ?? {};
  const envNamespace = labels[ENVIRONMENT_NAMESPACE_LABEL];
  if (labels[ENVIRONMENT_LABEL] !== owner.name || (envNamespace !== undefined && envNamespace !== owner.namespace)) return "no longer labelled as this Environment's; left in place";
  if (live.metadata.annotations?.[PRUNE_ANNOTATION] === "disabled") return `${PRUNE_ANNOTATION}: disabled`;
  return undefined;
}

/** Kinds whose prune deletes other objects with them: they go last, and only when nothing is lost. */
export const isGuardedKind = (id: ObjectId): boolean =>
  (id.group === "" && id.kind === "Namespace") || (id.group === "apiextensions.k8s.io" && id.kind === "CustomResourceDefinition");

/** Kinds whose objects never keep a Namespace alive: derived or informational. */
export const IGNORED_NAMESPACE_KINDS = new Set(["/Event", "events.k8s.io/Event", "/Endpoints", "discovery.k8s.io/EndpointSlice", "authorization.k8s.io/LocalSubjectAccessReview"]);
/** What Kubernetes creates in every namespace by itself. */
const AUTOMATIC_OBJECTS = new Set(["/ServiceAccount/default", "/ConfigMap/kube-root-ca.crt"]);

/** What was found listing a Namespace: objects of one kind, or a kind that could not be listed. */
export type NamespaceListing = { group: string; kind: string; items: KubeObject[] } | { group: string; kind: string; apiVersion: string; unreadable: string };

/**
 * Why a Namespace must not be pruned yet: it holds an object that stays in git, or anything Baton is not
 * deleting in this run (`deleted`: idKeys pruned so far). Owned objects (Pods of a ReplicaSet…), objects
 * being deleted, Events, Endpoints and what Kubernetes creates in every namespace do not count; a kind
 * that could not be listed counts as unknown contents, so the Namespace stays.
 */
export function namespaceBlocker(namespace: string, staying: ObjectId[], deleted: ReadonlySet<string>, listings: NamespaceListing[]): string | undefined {
  const inGit = staying.find((d) => d.namespace === namespace);
  if (inGit) return `it holds ${formatId(inGit)}, which is still in git`;
  const found: string[] = [];
  for (const l of listings) {
    if (IGNORED_NAMESPACE_KINDS.has(`${l.group}/${l.kind}`)) continue;
    if ("unreadable" in l) {
      found.push(`${l.apiVersion} ${l.kind} (cannot list: ${l.unreadable})`);
      continue;
    }
    for (const item of l.items) {
      const m = item.metadata as KubeObject["metadata"] & { ownerReferences?: unknown[]; deletionTimestamp?: string };
      if ((m.ownerReferences?.length ?? 0) > 0 || m.deletionTimestamp || AUTOMATIC_OBJECTS.has(`${l.group}/${l.kind}/${m.name}`)) continue;
      if (deleted.has(idKey(objectId(item)))) continue;
      found.push(`${item.apiVersion} ${l.kind} ${namespace}/${m.name}`);
    }
  }
  found.sort();
  return found.length > 0 ? `it holds ${found.slice(0, 3).join(", ")}${found.length > 3 ? ` and ${found.length - 3} more` : ""}, which Baton is not pruning` : undefined;
}

/** Why a CRD must not be pruned yet: deleting it would delete every custom resource of it. */
export function crdBlocker(kind: string, remaining: KubeObject[]): string | undefined {
  const first = remaining[0];
  return first ? `custom resources of it still exist (e.g. ${kind} ${first.metadata.namespace ? `${first.metadata.namespace}/` : ""}${first.metadata.name}); delete them first` : undefined;
}
