import { test } from "node:test";
import assert from "node:assert/strict";
import type { PipelineEnvironment } from "../../src/config/pipeline.js";
import { toObjects } from "../../src/config/render.js";
import type { ParsedDoc } from "../../src/config/yaml-safe.js";
import { environmentScope, scopeViolations } from "../../src/kube/scope.js";

const env: PipelineEnvironment = { name: "staging", path: "environments/staging", autoPromote: false, prune: true, requireDigests: true, allowDirectPush: false };
// toObjects reads only file, line and value of a parsed document.
const doc = (value: Record<string, unknown>) => ({ value, file: "environments/staging/x.yaml", line: 1, index: 0 }) as ParsedDoc;
const docs = [
  doc({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "a" } }),
  doc({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "b", namespace: "kube-system" } }),
  doc({ apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRoleBinding", metadata: { name: "admin-for-me", namespace: "ignored" } }),
  doc({ apiVersion: "v1", kind: "Namespace", metadata: { name: "team-a-jobs" } }),
];

test("targetNamespace puts every namespaced object there; cluster-scoped objects stay cluster-scoped", () => {
  const objects = toObjects(docs, env, { targetNamespace: "team-a" });
  assert.deepEqual(objects.map((o) => o.id.namespace), ["team-a", "team-a", undefined, undefined]);
  // Without it, an object's own namespace wins and the environment's namespace is only a default.
  assert.deepEqual(toObjects(docs, { ...env, namespace: "web" }).map((o) => o.id.namespace), ["web", "kube-system", undefined, undefined]);
});

test("an Environment without a grant is unrestricted unless the agent restricts it", () => {
  const objects = toObjects(docs, { ...env, namespace: "team-a" });
  assert.deepEqual(scopeViolations(objects, environmentScope("team-a", {}, false)), []);
  const errors = scopeViolations(objects, environmentScope("team-a", {}, true));
  assert.deepEqual(errors.map((e) => e.code), ["SCOPE_FORBIDDEN", "SCOPE_FORBIDDEN", "SCOPE_FORBIDDEN"]);
  assert.match(errors[0]?.message ?? "", /v1 ConfigMap kube-system\/b is in namespace kube-system; this Environment may write only to team-a/);
  assert.match(errors[1]?.message ?? "", /ClusterRoleBinding admin-for-me is cluster-scoped; this Environment may write only these cluster-scoped kinds: none/);
  assert.equal(errors[1]?.file, "environments/staging/x.yaml");
  assert.match(errors[1]?.hint ?? "", /spec\.allowedClusterResources/);
});

test("allowedNamespaces and allowedClusterResources grant exactly what they list; a Namespace must be an allowed one", () => {
  const objects = toObjects(docs, { ...env, namespace: "team-a" });
  const scope = environmentScope("team-a", { allowedNamespaces: ["kube-system"], allowedClusterResources: [{ group: "", kind: "Namespace" }] }, true);
  const errors = scopeViolations(objects, scope);
  assert.equal(errors.length, 2);
  assert.match(errors[0]?.message ?? "", /ClusterRoleBinding/);
  assert.match(errors[1]?.message ?? "", /Namespace team-a-jobs names a namespace this Environment may not write to \(allowed: team-a, kube-system\)/);
  const wider = environmentScope("team-a", { targetNamespace: "team-a-jobs", allowedNamespaces: ["kube-system"], allowedClusterResources: [{ group: "", kind: "Namespace" }, { group: "rbac.authorization.k8s.io", kind: "ClusterRoleBinding" }] }, false);
  assert.deepEqual(scopeViolations(objects, wider), []);
});
