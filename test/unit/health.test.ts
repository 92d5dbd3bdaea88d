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
  assert.equal(widget({ status: "False", reason: "ReconcileError", message: "bad" }).status, "Failed");
  assert.equal(widget({ status: "Unknown", reason: "Progressing" }).status, "InProgress");
});
