/**
 * Planning, pure: desired objects + live objects + the previous inventory → actions.
 * `unchanged` costs no request at all; `update` and `drift` are server-side applies; `prune` deletes.
 */
import { idKey, type KubeObject, type ObjectId, type RenderedObject } from "../config/objects.js";
import { contentHash } from "./desired.js";
import { inventoryKey, parseInventoryEntry, type InventoryEntry } from "./inventory.js";
import { sameQuantity } from "./quantity.js";

export type PlanAction = "create" | "update" | "drift" | "unchanged";

export interface PlannedObject {
  action: PlanAction;
  desired: RenderedObject;
  live?: KubeObject;
  hash: string;
  /** Why drift was detected: the first differing field. */
  reason?: string;
}

export interface Plan {
  objects: PlannedObject[];
  prune: ObjectId[];
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/**
 * Returns the path of the first field that `desired` sets and `live` does not hold, or undefined when
 * every desired field is present in live with the same value (live may have more: defaults, status).
 */
export function firstDifference(desired: unknown, live: unknown, path = ""): string | undefined {
  // null in desired means "remove" to server-side apply; it never counts as a difference.
  if (desired === null || desired === undefined) return undefined;
  // An empty map or list in git is what the server stores as "absent".
  if (isEmpty(desired) && (live === undefined || live === null || isEmpty(live))) return undefined;
  if (Array.isArray(desired)) {
    if (!Array.isArray(live) || live.length !== desired.length) return path || "(root)";
    for (let i = 0; i < desired.length; i++) {
      const d = firstDifference(desired[i], live[i], `${path}[${i}]`);
      if (d) return d;
    }
    return undefined;
  }
  if (isPlainObject(desired)) {
    if (!isPlainObject(live)) return path || "(root)";
    for (const [key, value] of Object.entries(desired)) {
      const d = firstDifference(value, live[key], path ? `${path}.${key}` : key);
      if (d) return d;
    }
    return undefined;
  }
  // Scalars: the API server stores ints as numbers and may echo quoted numbers as strings (int-or-string),
  // and normalises quantities (0.5 → 500m, 1024Mi → 1Gi).
  if (String(desired) === String(live)) return undefined;
  return isQuantityField(path) && sameQuantity(desired, live) ? undefined : path;
}

const isEmpty = (v: unknown): boolean => (Array.isArray(v) ? v.length === 0 : isPlainObject(v) && Object.keys(v).length === 0);

/** Maps of quantities (resources, quotas, limit ranges, capacities) and single quantity fields. */
const QUANTITY_MAPS = new Set(["requests", "limits", "hard", "capacity", "allocatable", "overhead", "default", "defaultRequest", "max", "min", "maxLimitRequestRatio"]);
const QUANTITY_FIELDS = new Set(["sizeLimit", "storage"]);

function isQuantityField(path: string): boolean {
  const keys = path.replace(/\[\d+\]/g, "").split(".");
  return QUANTITY_FIELDS.has(keys.at(-1) ?? "") || QUANTITY_MAPS.has(keys.at(-2) ?? "");
}

/** Secrets are compared by their stored form: stringData becomes base64 data on the server. */
export function comparable(obj: KubeObject): Record<string, unknown> {
  const { status: _status, ...rest } = obj as KubeObject & { status?: unknown };
  if (obj.kind !== "Secret" || obj.apiVersion !== "v1" || !isPlainObject(obj.stringData)) return rest;
  const { stringData, ...secret } = rest as Record<string, unknown>;
  const data: Record<string, unknown> = { ...(secret.data as Record<string, string> | undefined) };
  for (const [k, v] of Object.entries(stringData as Record<string, unknown>)) data[k] = Buffer.from(String(v)).toString("base64");
  return { ...secret, data };
}

export function planChanges(desired: RenderedObject[], live: Map<string, KubeObject>, previous: InventoryEntry[]): Plan {
  const previousHash = new Map(previous.map((e) => [e.id, e.h]));
  const objects: PlannedObject[] = desired.map((d) => {
    const hash = contentHash(d.object);
    const current = live.get(idKey(d.id));
    if (!current) return { action: "create", desired: d, hash };
    if (previousHash.get(inventoryKey(d.id)) !== hash) return { action: "update", desired: d, live: current, hash };
    const reason = firstDifference(comparable(d.object), current);
    return reason ? { action: "drift", desired: d, live: current, hash, reason } : { action: "unchanged", desired: d, live: current, hash };
  });
  const keep = new Set(desired.map((d) => inventoryKey(d.id)));
  const prune = previous.filter((e) => !keep.has(e.id)).map(parseInventoryEntry);
  return { objects, prune };
}

export function describePlan(plan: Plan): string {
  const count = (a: PlanAction) => plan.objects.filter((o) => o.action === a).length;
  return `${count("create")} to create, ${count("update")} to update, ${count("drift")} drifted, ${count("unchanged")} unchanged, ${plan.prune.length} to prune`;
}


/** The part of `live` that `desired` talks about, for readable diffs (no defaults, status or managedFields). */
export function projectLike(desired: unknown, live: unknown): unknown {
  if (Array.isArray(desired) && Array.isArray(live)) return live.map((item, i) => (i < desired.length ? projectLike(desired[i], item) : item));
  if (isPlainObject(desired) && isPlainObject(live)) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(desired)) if (key in live) out[key] = projectLike(desired[key], live[key]);
    return out;
  }
  return live;
}
