import { test } from "node:test";
import assert from "node:assert/strict";
import { aggregateHealth, assessHealth, hasHealthRule, type LiveObject } from "../../src/kube/health/index.js";

const deployment = (status: Record<string, unknown>, generation = 2, replicas = 3): LiveObject => ({ apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "web", generation }, spec: { replicas }, status });

test("Deployment: stale generation, partial rollout, old replicas, stalled, complete", () => {
  assert.equal(assessHealth(deployment({ observedGeneration: 1 })).status, "InProgress");
  assert.match(assessHealth(deployment({ observedGeneration: 2, updatedReplicas: 1, replicas: 3, availableReplicas: 3 })).message, /1 of 3 replicas updated/);
  assert.match(assessHealth(deployment({ observedGeneration: 2, updatedReplicas: 3, replicas: 4, availableReplicas: 3 })).message, /old replicas/);
  assert.equal(assessHealth(deployment({ observedGeneration: 2, conditions: [{ type: "Progressing", status: "False", reason: "ProgressDeadlineExceeded" }] })).status, "Failed");
  assert.equal(assessHealth(deployment({ observedGeneration: 2, updatedReplicas: 3, replicas: 3, availableReplicas: 3 })).status, "Current");
});

test("StatefulSet, DaemonSet, Job, PVC and generic Ready conditions", () => {
  assert.equal(assessHealth({ apiVersion: "apps/v1", kind: "StatefulSet", metadata: { name: "db", generation: 1 }, spec: { replicas: 2 }, status: { observedGeneration: 1, readyReplicas: 1 } }).status, "InProgress");
  assert.equal(assessHealth({ apiVersion: "apps/v1", kind: "StatefulSet", metadata: { name: "db", generation: 1 }, spec: { replicas: 2 }, status: { observedGeneration: 1, readyReplicas: 2, currentRevision: "a", updateRevision: "a" } }).status, "Current");
  assert.equal(assessHealth({ apiVersion: "apps/v1", kind: "DaemonSet", metadata: { name: "d", generation: 1 }, status: { observedGeneration: 1, desiredNumberScheduled: 2, updatedNumberScheduled: 2, numberAvailable: 1 } }).status, "InProgress");
  assert.equal(assessHealth({ apiVersion: "batch/v1", kind: "Job", metadata: { name: "j" }, status: { conditions: [{ type: "Failed", status: "True" }] } }).status, "Failed");
  assert.equal(assessHealth({ apiVersion: "batch/v1", kind: "Job", metadata: { name: "j" }, status: { conditions: [{ type: "Complete", status: "True" }] } }).status, "Current");
  assert.equal(assessHealth({ apiVersion: "v1", kind: "PersistentVolumeClaim", metadata: { name: "p" }, status: { phase: "Pending" } }).status, "InProgress");
  assert.equal(assessHealth({ apiVersion: "example.com/v1", kind: "Widget", metadata: { name: "w" }, status: { conditions: [{ type: "Ready", status: "False", reason: "Progressing" }] } }).status, "InProgress");
  assert.equal(assessHealth({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c" } }).status, "Current");
  assert.equal(aggregateHealth([{ status: "Current", message: "" }, { status: "Failed", message: "" }, { status: "InProgress", message: "" }]), "Failed");
});

test("StatefulSet with a partitioned rolling update is done once the pods above the partition are updated", () => {
  const sts = (status: Record<string, unknown>) => assessHealth({ apiVersion: "apps/v1", kind: "StatefulSet", metadata: { name: "db", generation: 2 }, spec: { replicas: 4, updateStrategy: { type: "RollingUpdate", rollingUpdate: { partition: 3 } } }, status: { observedGeneration: 2, readyReplicas: 4, currentRevision: "a", updateRevision: "b", ...status } });
  assert.equal(sts({ updatedReplicas: 0 }).status, "InProgress");
  assert.match(sts({ updatedReplicas: 0 }).message, /0 of 1 replicas above partition 3 updated/);
  assert.equal(sts({ updatedReplicas: 1 }).status, "Current", "old revision below the partition is intended");
  assert.equal(sts({ updatedReplicas: 1, readyReplicas: 3 }).status, "InProgress");
});

test("Jobs fail on Failed or FailureTarget; HPA, PDB, LoadBalancer Service and Ingress rules", () => {
  const job = (conditions: unknown[], spec: Record<string, unknown> = {}) => assessHealth({ apiVersion: "batch/v1", kind: "Job", metadata: { name: "j" }, spec, status: { conditions: conditions as never, failed: 7 } });
  assert.equal(job([{ type: "FailureTarget", status: "True", reason: "BackoffLimitExceeded" }]).status, "Failed");
  assert.match(job([{ type: "Failed", status: "True", reason: "DeadlineExceeded", message: "too slow" }]).message, /DeadlineExceeded \(too slow\)/);
  assert.equal(job([], { suspend: true }).message, "job suspended");

  const hpa = (conditions: unknown[]) => assessHealth({ apiVersion: "autoscaling/v2", kind: "HorizontalPodAutoscaler", metadata: { name: "h" }, status: { conditions: conditions as never } });
  assert.equal(hpa([]).status, "InProgress");
  assert.equal(hpa([{ type: "AbleToScale", status: "True", reason: "ReadyForNewScale" }, { type: "ScalingActive", status: "False", reason: "FailedGetResourceMetric", message: "no metrics" }]).status, "Failed");
  assert.equal(hpa([{ type: "AbleToScale", status: "True", reason: "ReadyForNewScale" }, { type: "ScalingLimited", status: "True", reason: "TooManyReplicas" }]).status, "Current");

  const pdb = (status: Record<string, unknown>) => assessHealth({ apiVersion: "policy/v1", kind: "PodDisruptionBudget", metadata: { name: "p", generation: 1 }, status });
  assert.equal(pdb({}).status, "InProgress");
  assert.equal(pdb({ observedGeneration: 1, currentHealthy: 1, desiredHealthy: 2 }).status, "InProgress");
  assert.equal(pdb({ observedGeneration: 1, currentHealthy: 2, desiredHealthy: 2, disruptionsAllowed: 0 }).status, "Current");

  const svc = (type: string, ingress?: unknown[]) => assessHealth({ apiVersion: "v1", kind: "Service", metadata: { name: "s" }, spec: { type }, status: { loadBalancer: ingress ? { ingress } : {} } });
  assert.equal(svc("ClusterIP").status, "Current");
  assert.equal(svc("LoadBalancer").status, "InProgress");
  assert.equal(svc("LoadBalancer", [{ ip: "203.0.113.7" }]).status, "Current");
  assert.equal(hasHealthRule("", "Service", { spec: { type: "LoadBalancer" } }), true);
  assert.equal(hasHealthRule("", "Service", { spec: {} }), false, "a ClusterIP Service costs no health read");

  const ing = (ingress?: unknown[]) => assessHealth({ apiVersion: "networking.k8s.io/v1", kind: "Ingress", metadata: { name: "i" }, status: { loadBalancer: ingress ? { ingress } : {} } });
  assert.equal(ing().status, "InProgress");
  assert.equal(ing([{ hostname: "lb.example.com" }]).status, "Current");
});

test("a generic Ready condition counts on any kind without a rule of its own", () => {
  const widget = (ready: Record<string, string>) => assessHealth({ apiVersion: "example.com/v1", kind: "Widget", metadata: { name: "w" }, status: { conditions: [{ type: "Ready", ...ready }] as never } });
  assert.equal(widget({ status: "True" }).status, "Current");
  assert.equal(widget({ status: "Unknown", reason: "Progressing" }).status, "InProgress");
});

test("custom resources follow kstatus: Stalled fails, Reconciling and Ready=False wait, no conditions at all is healthy", () => {
  const widget = (status?: Record<string, unknown>, generation = 3): LiveObject => ({ apiVersion: "example.com/v1", kind: "Widget", metadata: { name: "w", generation }, ...(status ? { status } : {}) });
  const ready = { type: "Ready", status: "True", reason: "Succeeded", message: "all good" };

  const stalled = assessHealth(widget({ observedGeneration: 3, conditions: [{ type: "Ready", status: "False", reason: "Progressing" }, { type: "Stalled", status: "True", reason: "InvalidSpec", message: "spec.size must be positive" }] }));
  assert.equal(stalled.status, "Failed");
  assert.match(stalled.message, /Widget w stalled: InvalidSpec \(spec\.size must be positive\)/);
  assert.equal(assessHealth(widget({ conditions: [{ type: "Stalled", status: "True", reason: "InvalidSpec" }] })).status, "Failed", "Stalled without a Ready condition");
  assert.equal(assessHealth(widget({ conditions: [{ type: "Reconciling", status: "True" }, { type: "Stalled", status: "True", reason: "InvalidSpec" }] })).status, "Failed", "Stalled wins whatever the order");

  const reconciling = assessHealth(widget({ observedGeneration: 3, conditions: [ready, { type: "Reconciling", status: "True", reason: "Progressing", message: "scaling to 3" }] }));
  assert.equal(reconciling.status, "InProgress", "Ready=True left from the previous spec while reconciling");
  assert.match(reconciling.message, /Widget w reconciling: Progressing \(scaling to 3\)/);
  assert.equal(assessHealth(widget({ conditions: [{ type: "Reconciling", status: "True" }] })).status, "InProgress", "Reconciling without a Ready condition");

  const retrying = assessHealth(widget({ observedGeneration: 3, conditions: [{ type: "Ready", status: "False", reason: "ReconcileError", message: "connection refused" }] }));
  assert.equal(retrying.status, "InProgress", "a controller retrying after an error gets spec.timeout; only Stalled fails at once");
  assert.match(retrying.message, /Widget w not ready: ReconcileError \(connection refused\)/);

  assert.equal(assessHealth(widget({ observedGeneration: 3, conditions: [{ ...ready, observedGeneration: 2 }] })).status, "InProgress", "the Ready condition itself is for an older generation");
  assert.equal(assessHealth(widget({ observedGeneration: 2, conditions: [ready] })).status, "InProgress", "status for an older generation");
  assert.equal(assessHealth(widget({ observedGeneration: 3, conditions: [{ ...ready, observedGeneration: 3 }, { type: "Reconciling", status: "False" }, { type: "Stalled", status: "False" }] })).status, "Current");

  // A config-like CR that never reports status must not hang its Environment until spec.timeout.
  assert.equal(assessHealth(widget(undefined, 1)).status, "Current", "no status at all");
  assert.equal(assessHealth(widget({ observedGeneration: 3 })).status, "Current", "observed the current generation, no conditions");
  assert.equal(assessHealth(widget({ observedGeneration: 3, conditions: [{ type: "Synced", status: "False" }] })).status, "Current", "conditions kstatus does not know");
});

test("Flux HelmRelease: InProgress until Ready=True for the current generation, Failed when helm-controller gave up", () => {
  const release = (status?: Record<string, unknown>, generation = 2, spec: Record<string, unknown> = {}) =>
    assessHealth({ apiVersion: "helm.toolkit.fluxcd.io/v2", kind: "HelmRelease", metadata: { name: "podinfo", namespace: "podinfo", generation }, spec, ...(status ? { status } : {}) });
  const ready = { type: "Ready", status: "True", reason: "UpgradeSucceeded", message: "Helm upgrade succeeded" };

  assert.equal(release().status, "InProgress", "just applied, no status yet: not healthy");
  assert.match(release().message, /waiting for Flux to reconcile HelmRelease podinfo/);
  assert.match(release(undefined, 1, { suspend: true }).message, /suspended/);
  assert.equal(release({ conditions: [ready] }).status, "InProgress", "conditions without observedGeneration are not for this spec");
  assert.equal(release({ observedGeneration: 1, conditions: [ready] }).status, "InProgress", "Ready for the previous generation");
  assert.equal(release({ observedGeneration: 2, conditions: [{ ...ready, observedGeneration: 1 }] }).status, "InProgress", "the Ready condition itself is stale");
  assert.equal(release({ observedGeneration: 2, conditions: [] }).status, "InProgress");
  assert.equal(release({ observedGeneration: 2, conditions: [{ ...ready, observedGeneration: 2 }] }).status, "Current");

  const upgradeFailed = { type: "Ready", status: "False", reason: "UpgradeFailed", message: "Helm upgrade failed: timed out waiting for the condition" };
  assert.equal(release({ observedGeneration: 2, conditions: [upgradeFailed, { type: "Reconciling", status: "True", reason: "ProgressingWithRetry" }] }).status, "InProgress", "helm-controller still retries");
  const gaveUp = release({ observedGeneration: 2, conditions: [upgradeFailed] });
  assert.equal(gaveUp.status, "Failed");
  assert.match(gaveUp.message, /HelmRelease podinfo failed: UpgradeFailed \(Helm upgrade failed: timed out/);
  assert.equal(release({ observedGeneration: 2, conditions: [{ type: "Ready", status: "False", reason: "RollbackSucceeded" }] }).status, "Failed", "remediated: the wanted release did not install");
  const stalled = release({ observedGeneration: 2, conditions: [{ type: "Stalled", status: "True", reason: "RetriesExceeded", message: "Failed to upgrade after 1 attempt(s)" }, { type: "Ready", status: "False", reason: "PendingRelease" }] });
  assert.equal(stalled.status, "Failed");
  assert.match(stalled.message, /stalled: RetriesExceeded \(Failed to upgrade after 1 attempt\(s\)\)/);
  assert.equal(release({ observedGeneration: 2, conditions: [{ type: "Ready", status: "False", reason: "DependencyNotReady" }] }).status, "InProgress");
  assert.equal(release({ observedGeneration: 2, conditions: [{ type: "Ready", status: "False", reason: "ArtifactFailed", message: "HelmChart is not ready" }] }).status, "InProgress", "the source may not be ready yet");
  assert.equal(release({ observedGeneration: 1, conditions: [upgradeFailed] }).status, "InProgress", "a failure of the previous spec says nothing about this one");
  assert.equal(hasHealthRule("helm.toolkit.fluxcd.io", "HelmRelease"), true);
});

test("other Flux kinds (Kustomization, GitRepository) follow the same kstatus reading", () => {
  const flux = (apiVersion: string, kind: string, status?: Record<string, unknown>) => assessHealth({ apiVersion, kind, metadata: { name: "apps", generation: 3 }, ...(status ? { status } : {}) });
  assert.equal(flux("kustomize.toolkit.fluxcd.io/v1", "Kustomization").status, "InProgress");
  assert.equal(flux("kustomize.toolkit.fluxcd.io/v1", "Kustomization", { observedGeneration: 3, conditions: [{ type: "Ready", status: "True" }] }).status, "Current");
  assert.equal(flux("kustomize.toolkit.fluxcd.io/v1", "Kustomization", { observedGeneration: 3, conditions: [{ type: "Ready", status: "False", reason: "BuildFailed" }] }).status, "Failed");
  assert.equal(flux("kustomize.toolkit.fluxcd.io/v1", "Kustomization", { observedGeneration: 3, conditions: [{ type: "Ready", status: "Unknown", reason: "Progressing" }, { type: "Reconciling", status: "True" }] }).status, "InProgress");
  assert.equal(flux("source.toolkit.fluxcd.io/v1", "GitRepository").status, "InProgress");
  assert.equal(flux("source.toolkit.fluxcd.io/v1", "GitRepository", { observedGeneration: 3, conditions: [{ type: "Stalled", status: "True", reason: "InvalidURL" }] }).status, "Failed");
  assert.equal(hasHealthRule("kustomize.toolkit.fluxcd.io", "Kustomization"), true);
});
