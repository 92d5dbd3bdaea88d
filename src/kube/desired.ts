/**
 * Turning rendered objects into what Baton applies: ownership labels, a stable content hash, and
 * apply stages (CRDs and Namespaces before everything that may live in or depend on them).
 */
import { createHash } from "node:crypto";
import type { KubeObject, RenderedObject } from "../config/objects.js";
import { ownerLabels, type Owner } from "./ownership.js";

export { ENVIRONMENT_LABEL, ENVIRONMENT_NAMESPACE_LABEL, FIELD_MANAGER, MANAGED_BY_LABEL, PRUNE_ANNOTATION } from "./ownership.js";
/** `"true"` lets Baton delete and recreate the object when a change touches an immutable field (like Flux's `kustomize.toolkit.fluxcd.io/force: enabled`). */
export const RECREATE_ANNOTATION = "baton.dev/recreate";

export function withOwnershipLabels(obj: KubeObject, owner: Owner): KubeObject {
  return { ...obj, metadata: { ...obj.metadata, labels: { ...obj.metadata.labels, ...ownerLabels(owner) } } };
}

/** Canonical JSON (sorted keys) so the hash does not depend on key order in the YAML. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value !== null && typeof value === "object") {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

export function contentHash(obj: KubeObject): string {
  return createHash("sha256").update(canonical(obj)).digest("hex").slice(0, 16);
}

/** 0: CRDs and Namespaces; 1: everything else. Custom resources wait for their CRD to be established. */
export function applyStage(obj: KubeObject): number {
  return obj.kind === "CustomResourceDefinition" || obj.kind === "Namespace" ? 0 : 1;
}

export const SYNC_WAVE_ANNOTATION = "argocd.argoproj.io/sync-wave";

/** Argo CD's sync wave (an integer annotation, default 0; anything else counts as 0 and validate says so). */
export function syncWave(obj: KubeObject): number {
  const value = obj.metadata.annotations?.[SYNC_WAVE_ANNOTATION]?.trim();
  return value !== undefined && /^-?\d+$/.test(value) ? Number(value) : 0;
}

/**
 * The order objects are applied in, as batches: CRDs and Namespaces first, then the rest by sync wave
 * (lowest first), so a repo written for Argo CD's waves is applied in the order it expects. Baton does not
 * wait for one wave's health before the next (health is checked once, after the whole apply). Pure.
 */
export function applyBatches<T>(items: T[], objectOf: (item: T) => KubeObject): T[][] {
  const key = (item: T): [number, number] => {
    const obj = objectOf(item);
    return applyStage(obj) === 0 ? [0, 0] : [1, syncWave(obj)];
  };
  const batches = new Map<string, { order: [number, number]; items: T[] }>();
  for (const item of items) {
    const order = key(item);
    const id = order.join(":");
    const batch = batches.get(id) ?? { order, items: [] };
    batch.items.push(item);
    batches.set(id, batch);
  }
  return [...batches.values()].sort((a, b) => a.order[0] - b.order[0] || a.order[1] - b.order[1]).map((b) => b.items);
}

export function desiredObjects(rendered: RenderedObject[], owner: Owner): RenderedObject[] {
  return rendered.map((r) => ({ ...r, object: withOwnershipLabels(r.object, owner) }));
}
