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
  const [namespace = "", name = "", group = "", kind = ""] = entry.id.split("_");
  const id: ObjectId = { group, version: entry.v, kind, name };
  if (namespace) id.namespace = namespace;
  return id;
}
