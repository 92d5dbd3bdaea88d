/**
 * Turning rendered objects into what Baton applies: ownership labels, a stable content hash, and
 * apply stages (CRDs and Namespaces before everything that may live in or depend on them).
 */
import { createHash } from "node:crypto";
import type { KubeObject, RenderedObject } from "../config/objects.js";

export const MANAGED_BY_LABEL = "app.kubernetes.io/managed-by";
export const ENVIRONMENT_LABEL = "baton.dev/environment";
export const PRUNE_ANNOTATION = "baton.dev/prune";
/** `"true"` lets Baton delete and recreate the object when a change touches an immutable field (like Flux's `kustomize.toolkit.fluxcd.io/force: enabled`). */
export const RECREATE_ANNOTATION = "baton.dev/recreate";
export const FIELD_MANAGER = "baton";

export function withOwnershipLabels(obj: KubeObject, environment: string): KubeObject {
  return {
    ...obj,
    metadata: { ...obj.metadata, labels: { ...obj.metadata.labels, [MANAGED_BY_LABEL]: "baton", [ENVIRONMENT_LABEL]: environment } },
  };
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

export function desiredObjects(rendered: RenderedObject[], environment: string): RenderedObject[] {
  return rendered.map((r) => ({ ...r, object: withOwnershipLabels(r.object, environment) }));
}
