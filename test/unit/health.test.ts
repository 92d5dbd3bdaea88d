import { test } from "node:test";
import assert from "node:assert/strict";
import { aggregateHealth, assessHealth, type LiveObject } from "../../src/kube/health/index.js";

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
