// The control plane is real: a Deployment created through @kubernetes/client-node rolls out on kwok's fake Node.
import { test } from "node:test";
import assert from "node:assert/strict";
import { AppsV1Api, CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { testKubeConfigFile } from "../support/testenv.js";
import { waitFor } from "../support/processes.js";

test("a 3-replica Deployment becomes available on the test control plane", async () => {
  // Deliberately the upstream client, not Baton's: the harness is checked by a client Baton did not write.
  const kc = new KubeConfig();
  kc.loadFromFile(testKubeConfigFile());
  const core = kc.makeApiClient(CoreV1Api);
  const apps = kc.makeApiClient(AppsV1Api);
  const namespace = `foundation-${Date.now().toString(36)}`;
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  try {
    await apps.createNamespacedDeployment({
      namespace,
      body: {
        metadata: { name: "web" },
        spec: {
          replicas: 3,
          selector: { matchLabels: { app: "web" } },
          template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "web", image: `ghcr.io/acme/web@sha256:${"a".repeat(64)}` }] } },
        },
      },
    });
    const available = await waitFor("3 available replicas", async () => {
      const d = await apps.readNamespacedDeployment({ name: "web", namespace });
      return d.status?.availableReplicas === 3 ? d.status.availableReplicas : undefined;
    }, 60_000);
    assert.equal(available, 3);
    const pods = await core.listNamespacedPod({ namespace });
    assert.equal(pods.items.length, 3);
    assert.ok(pods.items.every((p) => p.spec?.nodeName === "kwok-node-0" && p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True")));
    await apps.deleteNamespacedDeployment({ name: "web", namespace });
    await waitFor("deployment deleted", async () => {
      try {
        await apps.readNamespacedDeployment({ name: "web", namespace });
        return undefined;
      } catch {
        return true;
      }
    }, 30_000);
  } finally {
    await core.deleteNamespace({ name: namespace });
  }
});
