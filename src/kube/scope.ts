/**
 * Where an Environment may write (pure): which namespaces, which cluster-scoped kinds. The grant lives
 * on the Environment object (written by cluster admins, like an Argo CD AppProject's destinations and
 * cluster resource allow-list); git content is checked against it before anything is applied.
 */
import { BatonError } from "../errors.js";
import { formatId, type RenderedObject } from "../config/objects.js";

export interface ClusterKind {
  group: string;
  kind: string;
}

export interface Scope {
  /** Namespaces objects may live in; undefined: any. */
  namespaces?: string[];
  /** Cluster-scoped kinds allowed; undefined: any. */
  clusterKinds?: ClusterKind[];
}

export interface ScopeGrant {
  targetNamespace?: string;
  allowedNamespaces?: string[];
  allowedClusterResources?: ClusterKind[];
}

/**
 * The Environment's scope. Unrestricted unless the Environment lists what it allows or the agent runs
 * with `--no-cross-namespace-objects`; then namespaced objects may go to the Environment's own namespace,
 * its targetNamespace and `allowedNamespaces`, and cluster-scoped kinds only if `allowedClusterResources`
 * lists them.
 */
export function environmentScope(envNamespace: string, grant: ScopeGrant, restrict: boolean): Scope {
  const scope: Scope = {};
  if (restrict || grant.allowedNamespaces) {
    scope.namespaces = [...new Set([envNamespace, ...(grant.targetNamespace ? [grant.targetNamespace] : []), ...(grant.allowedNamespaces ?? [])])];
  }
  if (restrict || grant.allowedClusterResources) scope.clusterKinds = grant.allowedClusterResources ?? [];
  return scope;
}

/** Every object outside the scope, as errors naming the object and what the Environment allows. */
export function scopeViolations(objects: RenderedObject[], scope: Scope): BatonError[] {
  const errors: BatonError[] = [];
  const namespaces = scope.namespaces ? new Set(scope.namespaces) : undefined;
  const allowedNs = () => [...(namespaces ?? [])].join(", ");
  for (const o of objects) {
    const object = formatId(o.id);
    const where = { file: o.source.file, object };
    if (o.id.namespace !== undefined) {
      if (namespaces && !namespaces.has(o.id.namespace)) {
        errors.push(new BatonError("SCOPE_FORBIDDEN", `${object} is in namespace ${o.id.namespace}; this Environment may write only to ${allowedNs()}`, {
          ...where, hint: "move the object into an allowed namespace, or have a cluster admin add the namespace to the Environment's spec.allowedNamespaces",
        }));
      }
      continue;
    }
    if (scope.clusterKinds && !scope.clusterKinds.some((k) => k.group === o.id.group && k.kind === o.id.kind)) {
      const allowed = scope.clusterKinds.map((k) => `${k.group || "core"}/${k.kind}`).join(", ") || "none";
      errors.push(new BatonError("SCOPE_FORBIDDEN", `${object} is cluster-scoped; this Environment may write only these cluster-scoped kinds: ${allowed}`, {
        ...where, hint: `remove it from git, or have a cluster admin add {group: "${o.id.group}", kind: ${o.id.kind}} to the Environment's spec.allowedClusterResources`,
      }));
      continue;
    }
    // A Namespace is also a claim on the namespace it names.
    if (o.id.group === "" && o.id.kind === "Namespace" && namespaces && !namespaces.has(o.id.name)) {
      errors.push(new BatonError("SCOPE_FORBIDDEN", `${object} names a namespace this Environment may not write to (allowed: ${allowedNs()})`, {
        ...where, hint: "have a cluster admin add the namespace to the Environment's spec.allowedNamespaces",
      }));
    }
  }
  return errors;
}
