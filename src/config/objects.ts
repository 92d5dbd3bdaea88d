/**
 * Kubernetes objects as Baton sees them: identity (group, version, kind, namespace, name),
 * structural validation of user manifests, and which kinds are cluster-scoped.
 */
import { BatonError } from "../errors.js";

export interface ObjectMeta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  [key: string]: unknown;
}

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [key: string]: unknown;
}

export interface ObjectId {
  group: string;
  version: string;
  kind: string;
  namespace?: string;
  name: string;
}

export interface SourceLocation {
  file: string;
  line: number;
}

export interface RenderedObject {
  id: ObjectId;
  object: KubeObject;
  source: SourceLocation;
}

/** Kinds that live outside namespaces (built-in APIs; CRDs declare theirs and are refined by discovery in the agent). */
export const CLUSTER_SCOPED_KINDS = new Set([
  "Namespace", "Node", "PersistentVolume", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition",
  "StorageClass", "PriorityClass", "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration",
  "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding", "APIService", "IngressClass", "RuntimeClass",
  "CSIDriver", "CSINode", "VolumeAttachment", "CertificateSigningRequest", "FlowSchema", "PriorityLevelConfiguration",
  "MutatingAdmissionPolicy", "MutatingAdmissionPolicyBinding", "ClusterTrustBundle", "IPAddress", "ServiceCIDR",
  "DeviceClass", "ResourceSlice", "DeviceTaintRule", "VolumeAttributesClass", "StorageVersionMigration", "ComponentStatus",
]);

/**
 * The scope each CustomResourceDefinition in a render declares for its kind (`group/kind` → cluster-scoped):
 * the render itself says whether its custom objects take a namespace, before any cluster has the CRD.
 */
export function crdScopes(values: Array<Record<string, unknown>>): Map<string, boolean> {
  const scopes = new Map<string, boolean>();
  for (const value of values) {
    if (value.kind !== "CustomResourceDefinition" || typeof value.spec !== "object" || value.spec === null) continue;
    const spec = value.spec as { group?: unknown; scope?: unknown; names?: { kind?: unknown } };
    if (typeof spec.group === "string" && typeof spec.names?.kind === "string") scopes.set(`${spec.group}/${spec.names.kind}`, spec.scope === "Cluster");
  }
  return scopes;
}

export function splitApiVersion(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.indexOf("/");
  return slash === -1 ? { group: "", version: apiVersion } : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

export function objectId(obj: KubeObject): ObjectId {
  const { group, version } = splitApiVersion(obj.apiVersion);
  const id: ObjectId = { group, version, kind: obj.kind, name: obj.metadata.name };
  if (obj.metadata.namespace) id.namespace = obj.metadata.namespace;
  return id;
}

/** Identity without version: the same object may be served at several versions. */
export function idKey(id: ObjectId): string {
  return `${id.group}/${id.kind}/${id.namespace ?? ""}/${id.name}`;
}

/** `apps/v1 Deployment web/api` (namespace/name), for messages and logs. */
export function formatId(id: ObjectId): string {
  const gv = id.group ? `${id.group}/${id.version}` : id.version;
  return `${gv} ${id.kind} ${id.namespace ? `${id.namespace}/` : ""}${id.name}`;
}

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
// RBAC objects may use ':' (system:controller:foo); Kubernetes validates them as path segments.
const PATH_SEGMENT = /^[^/%\s]+$/;

/** Checks the fields every object needs; `where` names the file and line for the error. */
export function validateObject(value: Record<string, unknown>, where: SourceLocation): KubeObject {
  const fail = (field: string, message: string, hint: string, code: "OBJECT_MISSING_FIELD" | "OBJECT_INVALID_NAME" = "OBJECT_MISSING_FIELD") =>
    new BatonError(code, `object at line ${where.line}: ${message}`, { file: where.file, field, hint });
  if (typeof value.apiVersion !== "string" || value.apiVersion === "") {
    throw fail("apiVersion", "has no apiVersion", "add apiVersion, e.g. apps/v1");
  }
  if (typeof value.kind !== "string" || value.kind === "") throw fail("kind", "has no kind", "add kind, e.g. Deployment");
  const metadata = value.metadata;
  if (typeof metadata !== "object" || metadata === null || Array.isArray(metadata)) {
    throw fail("metadata", "has no metadata", "add metadata.name");
  }
  const meta = metadata as Record<string, unknown>;
  if (typeof meta.name !== "string" || meta.name === "") {
    throw fail("metadata.name", `${value.kind} has no metadata.name`, "every object needs a name (generateName is not supported in GitOps)");
  }
  const { group } = splitApiVersion(value.apiVersion);
  const nameOk = group === "rbac.authorization.k8s.io" ? PATH_SEGMENT.test(meta.name) : DNS_SUBDOMAIN.test(meta.name) && meta.name.length <= 253;
  if (!nameOk) {
    throw fail("metadata.name", `${value.kind} name "${meta.name}" is invalid`, "use lowercase letters, digits, '-' and '.', starting and ending with a letter or digit", "OBJECT_INVALID_NAME");
  }
  if (meta.namespace !== undefined && (typeof meta.namespace !== "string" || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(meta.namespace))) {
    throw fail("metadata.namespace", `${value.kind} ${meta.name} has an invalid namespace`, "use a DNS label (lowercase letters, digits, '-')", "OBJECT_INVALID_NAME");
  }
  for (const field of ["labels", "annotations"] as const) {
    const m = meta[field];
    if (m !== undefined && (typeof m !== "object" || m === null || Array.isArray(m) || Object.values(m).some((v) => typeof v !== "string"))) {
      throw fail(`metadata.${field}`, `${value.kind} ${meta.name} has non-string ${field}`, `quote every ${field} value, e.g. "true"`);
    }
  }
  return value as KubeObject;
}

/**
 * Applies the environment's default namespace to namespaced objects that do not set one; with `force`
 * (the Environment's targetNamespace) every namespaced object goes there, whatever it says.
 */
export function withDefaultNamespace(obj: KubeObject, namespace: string | undefined, clusterScoped: (kind: string, group: string) => boolean, force = false): KubeObject {
  const { group } = splitApiVersion(obj.apiVersion);
  if (clusterScoped(obj.kind, group)) {
    if (obj.metadata.namespace === undefined) return obj;
    const { namespace: _drop, ...metadata } = obj.metadata;
    return { ...obj, metadata: metadata as ObjectMeta };
  }
  if (namespace === undefined || obj.metadata.namespace === namespace || (obj.metadata.namespace !== undefined && !force)) return obj;
  return { ...obj, metadata: { ...obj.metadata, namespace } };
}

export const isBuiltinClusterScoped = (kind: string): boolean => CLUSTER_SCOPED_KINDS.has(kind);
