/**
 * Apply, prune and wait as one small manager (after fluxcd/pkg ssa). Every verb returns change-set
 * entries; callers decide how to log, record events and report status. The manager never prints.
 */
import { BatonError } from "../errors.js";
import { formatId, idKey, type KubeObject, type ObjectId, type RenderedObject } from "../config/objects.js";
import { mapLimit, sleep } from "../util/pool.js";
import { KubeApiError, describeKubeError, type KubeClient } from "./client.js";
import { applyBatches, applyStage, FIELD_MANAGER, RECREATE_ANNOTATION } from "./desired.js";
import { crdBlocker, isGuardedKind, namespaceBlocker, pruneRefusal, wantsAdoption, type NamespaceListing, type Owner } from "./ownership.js";
import { aggregateHealth, assessHealth, hasHealthRule, type Health, type LiveObject } from "./health/index.js";
import type { Plan, PlannedObject } from "./plan.js";

export type ChangeAction = "created" | "configured" | "drift-corrected" | "unchanged" | "deleted" | "skipped";

export interface ChangeSetEntry {
  object: string;
  id: ObjectId;
  action: ChangeAction;
  message?: string;
  /** A prune a guard held back (a Namespace in use, a CRD with resources): keep it in the inventory, retry. */
  retain?: boolean;
}

export interface ManagerOptions {
  concurrency?: number;
  force?: boolean;
}

export class ResourceManager {
  private readonly concurrency: number;
  private readonly force: boolean;

  constructor(private readonly client: KubeClient, options: ManagerOptions = {}) {
    this.concurrency = options.concurrency ?? 8;
    this.force = options.force ?? false;
  }

  /**
   * Objects of the given kinds and namespaces that match `labelSelector`, one LIST per (kind, namespace)
   * instead of one GET per object: an unchanged environment of 1,000 objects costs a handful of reads.
   */
  async listExisting(ids: ObjectId[], options: { labelSelector?: string } = {}): Promise<KubeObject[]> {
    const found: KubeObject[] = [];
    await mapLimit(groupByKindAndNamespace(ids), this.concurrency, async (g) => {
      found.push(...(await this.listOrNothing(() => this.client.list(g.apiVersion, g.kind, g.namespace, options.labelSelector))));
    });
    return found;
  }

  /**
   * The metadata of those of `ids` that exist, whoever owns them (ownership checks of objects not found
   * under the owner's labels). Per (kind, namespace): one metadata LIST when the namespace holds few
   * objects, and otherwise one GET per object. A LIST of the whole namespace per new Environment grew
   * with everything else in it: 200 new Environments of 20 objects in one namespace listed 400,000
   * objects' metadata between them (the read before each first apply grew from 0.25 s to 1 s), where 20
   * GETs each cost the same at any size. One page of `max(50, 2 × ids)` objects tells which case it is.
   */
  async findMetadata(ids: ObjectId[]): Promise<KubeObject[]> {
    const found: KubeObject[] = [];
    await mapLimit(groupIdsByKindAndNamespace(ids), this.concurrency, async ({ apiVersion, kind, namespace, ids: wanted }) => {
      const page = await this.pageOrNothing(() => this.client.listMetadataPage(apiVersion, kind, namespace, Math.max(FEW_OBJECTS, 2 * wanted.length)));
      if (page.complete) {
        found.push(...page.items);
        return;
      }
      const objects = await mapLimit(wanted, this.concurrency, async (id) => {
        try {
          return await this.client.getMetadata(apiVersion, kind, id.namespace, id.name);
        } catch (e) {
          throw describeKubeError(e, id);
        }
      });
      found.push(...objects.filter((o): o is KubeObject => o !== undefined));
    });
    return found;
  }

  private async pageOrNothing(list: () => Promise<{ items: KubeObject[]; complete: boolean }>): Promise<{ items: KubeObject[]; complete: boolean }> {
    try {
      return await list();
    } catch (e) {
      if (e instanceof BatonError && e.code === "KUBE_UNKNOWN_KIND") return { items: [], complete: true }; // CRD not installed yet: nothing live
      if (e instanceof KubeApiError && e.status === 404) return { items: [], complete: true }; // namespace does not exist yet
      throw describeKubeError(e);
    }
  }

  /** Whole objects, one GET each (those that are gone are left out). */
  async getAll(ids: ObjectId[]): Promise<KubeObject[]> {
    const found = await mapLimit(ids, this.concurrency, async (id) => {
      try {
        return await this.client.get(id.group ? `${id.group}/${id.version}` : id.version, id.kind, id.namespace, id.name);
      } catch (e) {
        throw describeKubeError(e, id);
      }
    });
    return found.filter((o): o is KubeObject => o !== undefined);
  }

  private async listOrNothing(list: () => Promise<KubeObject[]>): Promise<KubeObject[]> {
    try {
      return await list();
    } catch (e) {
      if (e instanceof BatonError && e.code === "KUBE_UNKNOWN_KIND") return []; // CRD not installed yet: nothing live
      if (e instanceof KubeApiError && e.status === 404) return []; // namespace does not exist yet
      throw describeKubeError(e);
    }
  }

  /**
   * Applies the plan's changed objects: stage 0 (CRDs, Namespaces) first and waited for, then the rest,
   * one Argo CD sync wave after another.
   * Nothing is applied half-way within a stage: changes to existing objects are validated with a
   * server-side dry-run before anything is written, and if creating a new object fails, the objects this
   * stage just created are deleted again. (Creates skip the dry-run because they can be undone; that
   * keeps a first apply at one request per object.)
   */
  async apply(plan: Plan): Promise<ChangeSetEntry[]> {
    const entries: ChangeSetEntry[] = plan.objects
      .filter((o) => o.action === "unchanged")
      .map((o) => ({ object: formatId(o.desired.id), id: o.desired.id, action: "unchanged" }));
    const changed = plan.objects.filter((o) => o.action !== "unchanged");
    // CRDs and Namespaces first, then Argo CD sync waves in order (applyBatches).
    for (const batch of applyBatches(changed, (o) => o.desired.object)) {
      const stage = applyStage((batch[0] as PlannedObject).desired.object);
      const updates = batch.filter((o) => o.live);
      const creates = batch.filter((o) => !o.live);
      await mapLimit(updates, this.concurrency, (o) => this.applyOne(o, true));
      entries.push(...(await this.createAll(creates)));
      entries.push(...(await mapLimit(updates, this.concurrency, (o) => this.applyOne(o, false))));
      if (stage === 0 && batch.some((o) => o.desired.object.kind === "CustomResourceDefinition")) {
        await this.waitEstablished(batch.filter((o) => o.desired.object.kind === "CustomResourceDefinition").map((o) => o.desired));
        await this.client.discover(true);
      }
    }
    return entries;
  }

  /** Creates objects concurrently; on the first failure, deletes the ones this call created and rethrows. */
  private async createAll(creates: PlannedObject[]): Promise<ChangeSetEntry[]> {
    const created: ObjectId[] = [];
    let failure: unknown;
    const results = await mapLimit(creates, this.concurrency, async (o) => {
      if (failure) return undefined;
      try {
        const entry = await this.applyOne(o, false, (result) => {
          if (createdByThisApply(result)) created.push(o.desired.id);
        });
        return entry;
      } catch (e) {
        failure ??= e;
        return undefined;
      }
    });
    if (failure) {
      await mapLimit(created, this.concurrency, (id) => this.client.delete(id).catch(() => false));
      throw failure;
    }
    return results.filter((r): r is ChangeSetEntry => r !== undefined);
  }

  private async applyOne(o: PlannedObject, dryRun: boolean, onResult?: (result: KubeObject) => void): Promise<ChangeSetEntry> {
    const object = formatId(o.desired.id);
    // Adoption (git's baton.dev/adopt) takes the object over from its previous manager, fields included.
    let force = this.force || wantsAdoption(o.desired.object);
    for (let attempt = 0; ; attempt++) {
      try {
        const result = await this.client.apply(o.desired.object, { fieldManager: FIELD_MANAGER, force, dryRun });
        onResult?.(result);
        const before = o.live?.metadata.resourceVersion;
        const after = result.metadata.resourceVersion;
        // Without a live object (none, or one not yet labelled as ours) the apply created or adopted it.
        const action: ChangeAction = !o.live ? "created" : before === after ? "unchanged" : o.action === "drift" ? "drift-corrected" : "configured";
        return { object, id: o.desired.id, action, ...(o.reason ? { message: `drift at ${o.reason}` } : {}) };
      } catch (e) {
        if (o.live && isImmutableChange(e) && o.desired.object.metadata.annotations?.[RECREATE_ANNOTATION] === "true") {
          if (dryRun) return { object, id: o.desired.id, action: "configured", message: "an immutable field changed: will be recreated" };
          await this.recreate(o);
          return { object, id: o.desired.id, action: "configured", message: `recreated: an immutable field changed (${RECREATE_ANNOTATION})` };
        }
        // A conflict with a manual edit (kubectl edit/set/scale: an Update manager) is drift: git wins.
        // A conflict with another applier (another GitOps tool) needs spec.force.
        if (e instanceof KubeApiError && e.status === 409 && !force && attempt === 0 && this.onlyManualConflicts(o.live, e.message)) {
          force = true;
          continue;
        }
        const err = describeKubeError(e, o.desired.id);
        throw new BatonError(err.code, `${dryRun ? "dry-run " : ""}apply of ${object} failed: ${err.message}`, {
          file: o.desired.source.file, object,
          hint: e instanceof KubeApiError && e.status === 409 ? "another field manager applies these fields; remove it or set spec.force: true on the Environment"
            : isImmutableChange(e) ? `an immutable field changed: annotate the object with ${RECREATE_ANNOTATION}: "true" to let Baton delete and recreate it, or revert the field`
              : (err.hint ?? "fix the manifest"),
          cause: e,
        });
      }
    }
  }

  /** Deletes the live object, waits until it is gone (finalizers, foreground GC), and creates it from git. */
  private async recreate(o: PlannedObject, timeoutMs = 60_000): Promise<void> {
    const { id } = o.desired;
    const uid = o.live?.metadata.uid;
    await this.client.delete(id);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const live = await this.client.get(o.desired.object.apiVersion, id.kind, id.namespace, id.name);
      if (!live || live.metadata.uid !== uid) break;
      if (Date.now() > deadline) throw new BatonError("KUBE_FAILED", `${formatId(id)} was deleted to be recreated but is still there`, { object: formatId(id), file: o.desired.source.file, hint: "check its finalizers" });
      await sleep(250);
    }
    await this.client.apply(o.desired.object, { fieldManager: FIELD_MANAGER, force: true });
  }

  private onlyManualConflicts(live: KubeObject | undefined, message: string): boolean {
    const managers = [...message.matchAll(/conflicts? with "([^"]+)"/g)].map((m) => m[1]);
    if (managers.length === 0) return false;
    const fields = (live?.metadata.managedFields ?? []) as Array<{ manager?: string; operation?: string }>;
    return managers.every((m) => fields.some((f) => f.manager === m && f.operation === "Update") || !fields.some((f) => f.manager === m && f.operation === "Apply"));
  }

  private async waitEstablished(crds: RenderedObject[], timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (const crd of crds) {
      for (;;) {
        const live = await this.client.get(crd.object.apiVersion, crd.object.kind, undefined, crd.object.metadata.name);
        if (live && assessHealth(live as LiveObject).status === "Current") break;
        if (Date.now() > deadline) throw new BatonError("HEALTH_TIMEOUT", `CRD ${crd.object.metadata.name} was not established in time`, { object: formatId(crd.id), hint: "check the CRD's status conditions" });
        await sleep(250);
      }
    }
  }

  /**
   * Deletes objects that left git, when pruneRefusal allows. Guarded kinds go last and only when safe: a
   * CustomResourceDefinition while custom resources of it exist, or a Namespace while it holds objects
   * that are not pruned in this run (`staying`: what is still in git), is skipped with `retain`, so the
   * caller keeps it in the inventory and tries again next time.
   */
  async prune(owner: Owner, ids: ObjectId[], staying: ObjectId[]): Promise<ChangeSetEntry[]> {
    const entries = await mapLimit(ids.filter((id) => !isGuardedKind(id)), this.concurrency, (id) => this.pruneOne(owner, id));
    for (const id of ids.filter((i) => isGuardedKind(i) && i.kind === "CustomResourceDefinition")) entries.push(await this.pruneOne(owner, id, (live) => this.customResourcesLeft(live)));
    const deleted = new Set(entries.filter((e) => e.action === "deleted").map((e) => idKey(e.id)));
    for (const id of ids.filter((i) => isGuardedKind(i) && i.kind === "Namespace")) {
      entries.push(await this.pruneOne(owner, id, async () => namespaceBlocker(id.name, staying, deleted, await this.namespaceListings(id.name))));
    }
    return entries;
  }

  /** `blocker` says why the object must not go yet (undefined: it may). */
  private async pruneOne(owner: Owner, id: ObjectId, blocker?: (live: KubeObject) => Promise<string | undefined>): Promise<ChangeSetEntry> {
    const object = formatId(id);
    try {
      const live = await this.client.get(id.group ? `${id.group}/${id.version}` : id.version, id.kind, id.namespace, id.name);
      if (!live) return { object, id, action: "skipped", message: "already gone" };
      const refused = pruneRefusal(live, owner);
      if (refused) return { object, id, action: "skipped", message: refused };
      const blocked = await blocker?.(live);
      if (blocked) return { object, id, action: "skipped", retain: true, message: `not pruned yet: ${blocked}` };
      await this.client.delete(id);
      return { object, id, action: "deleted" };
    } catch (e) {
      if (e instanceof BatonError && e.code === "KUBE_UNKNOWN_KIND") return { object, id, action: "skipped", message: "kind no longer served" };
      throw describeKubeError(e, id);
    }
  }

  /** One custom resource of the CRD in any namespace, if any is left. */
  private async customResourcesLeft(crd: KubeObject): Promise<string | undefined> {
    const spec = (crd as KubeObject & { spec?: { group?: string; names?: { kind?: string }; versions?: Array<{ name: string; served?: boolean }> } }).spec;
    const version = spec?.versions?.find((v) => v.served !== false)?.name;
    const kind = spec?.names?.kind;
    if (!spec?.group || !kind || !version) return undefined;
    return crdBlocker(kind, await this.listOrNothing(() => this.client.listMetadata(`${spec.group}/${version}`, kind, undefined, { limit: 1 })));
  }

  /** Everything a namespace holds, one metadata LIST per listable kind; a kind that fails to list is reported. */
  private async namespaceListings(namespace: string): Promise<NamespaceListing[]> {
    return mapLimit(await this.client.listableNamespacedKinds(), this.concurrency, async (r): Promise<NamespaceListing> => {
      const apiVersion = r.group ? `${r.group}/${r.version}` : r.version;
      try {
        return { group: r.group, kind: r.kind, items: await this.client.listMetadata(apiVersion, r.kind, namespace) };
      } catch (e) {
        if (e instanceof KubeApiError && e.status === 404) return { group: r.group, kind: r.kind, items: [] };
        return { group: r.group, kind: r.kind, apiVersion, unreadable: e instanceof KubeApiError ? `HTTP ${e.status}` : e instanceof Error ? e.message : String(e) };
      }
    });
  }

  /**
   * Reads each object that can be unhealthy once and assesses it. Plain data kinds (ConfigMap, Service,
   * RBAC…) are ready once they exist, so they cost no request.
   */
  async health(objects: RenderedObject[]): Promise<{ status: Health["status"]; results: Array<{ object: string; health: Health }> }> {
    const results = await mapLimit(objects.filter(needsHealthRead), this.concurrency, async (o) => {
      const live = await this.client.get(o.object.apiVersion, o.object.kind, o.object.metadata.namespace, o.object.metadata.name);
      const health: Health = live ? assessHealth(live as LiveObject) : { status: "InProgress", message: "not found" };
      return { object: formatId(o.id), health };
    });
    return { status: aggregateHealth(results.map((r) => r.health)), results };
  }
}

/** Below this many objects in a (kind, namespace), one LIST of them all is cheaper than a GET per object. */
const FEW_OBJECTS = 50;

function groupIdsByKindAndNamespace(ids: ObjectId[]): Array<{ apiVersion: string; kind: string; namespace?: string; ids: ObjectId[] }> {
  const groups = new Map<string, { apiVersion: string; kind: string; namespace?: string; ids: ObjectId[] }>();
  for (const id of ids) {
    const apiVersion = id.group ? `${id.group}/${id.version}` : id.version;
    const key = `${apiVersion}|${id.kind}|${id.namespace ?? ""}`;
    const group = groups.get(key) ?? { apiVersion, kind: id.kind, ...(id.namespace ? { namespace: id.namespace } : {}), ids: [] };
    group.ids.push(id);
    groups.set(key, group);
  }
  return [...groups.values()];
}

function groupByKindAndNamespace(ids: ObjectId[]): Array<{ apiVersion: string; kind: string; namespace?: string }> {
  const groups = new Map<string, { apiVersion: string; kind: string; namespace?: string }>();
  for (const id of ids) {
    const apiVersion = id.group ? `${id.group}/${id.version}` : id.version;
    groups.set(`${apiVersion}|${id.kind}|${id.namespace ?? ""}`, { apiVersion, kind: id.kind, ...(id.namespace ? { namespace: id.namespace } : {}) });
  }
  return [...groups.values()];
}

const READY_ON_CREATION_GROUPS = new Set(["", "rbac.authorization.k8s.io", "networking.k8s.io", "policy", "scheduling.k8s.io", "storage.k8s.io", "coordination.k8s.io", "admissionregistration.k8s.io", "autoscaling"]);

function needsHealthRead(o: RenderedObject): boolean {
  const { id } = o;
  if (hasHealthRule(id.group, id.kind, o.object)) return true;
  if (id.group === "apps" || id.group === "batch" || id.group === "apiextensions.k8s.io") return true;
  return !READY_ON_CREATION_GROUPS.has(id.group); // custom resources may carry a Ready condition
}

/** The API server's answer to a change of a field that cannot change (Job template, Service clusterIP, selectors). */
function isImmutableChange(e: unknown): boolean {
  return e instanceof KubeApiError && e.status === 422 && /field is immutable/i.test(e.message);
}

/**
 * True when the server created the object in this very apply: Baton is its only manager and its one
 * managedFields entry was written at creation time. Pre-existing objects that Baton adopts fail this
 * check, so a rollback of a failed create never deletes something Baton did not create.
 */
function createdByThisApply(result: KubeObject): boolean {
  const fields = (result.metadata.managedFields ?? []) as Array<{ manager?: string; operation?: string; time?: string }>;
  return fields.length === 1 && fields[0]?.manager === FIELD_MANAGER && fields[0].operation === "Apply" && fields[0].time === result.metadata.creationTimestamp;
}
