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

export function desiredObjects(rendered: RenderedObject[], owner: Owner): RenderedObject[] {
  return rendered.map((r) => ({ ...r, object: withOwnershipLabels(r.object, owner) }));
}
