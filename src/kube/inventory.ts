/**
 * The inventory: what an Environment applied last time, kept in its status so pruning can diff the
 * previous set against the new one (like Flux's `ns_name_group_kind` entries), plus each object's
 * content hash so a field removed from git is still noticed.
 */
import type { ObjectId } from "../config/objects.js";

export interface InventoryEntry {
  /** `namespace_name_group_kind` */
  id: string;
  /** API version it was applied at. */
  v: string;
  /** Content hash of the applied object. */
  h?: string;
}

export function inventoryKey(id: ObjectId): string {
  return `${id.namespace ?? ""}_${id.name}_${id.group}_${id.kind}`;
}

export function parseInventoryEntry(entry: InventoryEntry): ObjectId {
  // Names of RBAC objects may contain '_': namespace is the first field, group and kind the last two.
  const parts = entry.id.split("_");
  const namespace = parts[0] ?? "";
  const kind = parts[parts.length - 1] ?? "";
  const group = parts[parts.length - 2] ?? "";
  const name = parts.slice(1, -2).join("_");
  const id: ObjectId = { group, version: entry.v, kind, name };
  if (namespace) id.namespace = namespace;
  return id;
}
