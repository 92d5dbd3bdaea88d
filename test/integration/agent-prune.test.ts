// Pruning: a manifest removed from git is deleted; a render error applies and prunes nothing (Stalled);
// a render of zero objects prunes nothing; `baton.dev/prune: disabled` keeps an object.
// test-lane: shares-cluster
import { test } from "node:test";
import assert from "node:assert/strict";
import { waitFor } from "../support/processes.js";
import { agentFixture, isReady, readyCondition } from "../support/agent-fixture.js";
import { digest, underPath, webApp } from "../support/config-repo.js";

const IMAGE = `ghcr.io/acme/web@${digest("prune")}`;
const P = "environments/testing";

test("prune removes what left git, and never runs after a failed or empty render", async () => {
  const files = underPath(P, {
    ...webApp(IMAGE),
    "extra.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\ndata: {a: \"1\"}\n",
    "keep.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: keep\n  annotations:\n    baton.dev/prune: disabled\ndata: {a: \"1\"}\n",
  });
  const f = await agentFixture("prune", files);
  try {
    await f.createEnvironment("testing", { path: P, interval: "1h" });
    const agent = await f.startAgent();
    const trigger = () => agent.controller.trigger(`${f.namespace}/testing`, "test");
    await f.waitForEnvironment("testing", "Ready", (e) => isReady(e, undefined) && e.status?.inventory?.entries.length === 5);

    // 1. Removing manifests prunes them, except the one that opts out.
    const removed = await f.repo.commit({ [`${P}/extra.yaml`]: null, [`${P}/keep.yaml`]: null }, "remove extra and keep");
    trigger();
    await f.waitForEnvironment("testing", "pruned revision Ready", (e) => isReady(e, removed));
    assert.equal(await f.client.get("v1", "ConfigMap", f.namespace, "extra"), undefined);
    assert.ok(await f.client.get("v1", "ConfigMap", f.namespace, "keep"), "keep has baton.dev/prune: disabled");

    // 2. A render error (invalid YAML) stalls the Environment; nothing is applied or pruned.
    const broken = await f.repo.commit({ [`${P}/config.yaml`]: null, [`${P}/broken.yaml`]: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [oops\n" }, "break it");
    trigger();
    let env = await f.waitForEnvironment("testing", "Stalled", (e) => e.status?.lastAttemptedRevision === broken && readyCondition(e)?.status === "False");
    assert.equal(env.status?.conditions?.find((c) => c.type === "Stalled")?.status, "True");
    assert.match(readyCondition(env)?.message ?? "", /YAML_SYNTAX/);
    assert.equal(env.status?.lastAppliedRevision, removed);
    assert.ok(await f.client.get("v1", "ConfigMap", f.namespace, "web-config"), "web-config must not be pruned while the render fails");

    // 3. A render of zero objects prunes nothing.
    // The folder keeps one YAML file with no documents, so git still has the folder but it renders nothing.
    const empty = await f.repo.commit({ [`${P}/deploy.yaml`]: null, [`${P}/service.yaml`]: null, [`${P}/broken.yaml`]: null, [`${P}/README.yaml`]: "# nothing here\n" }, "empty the folder");
    trigger();
    env = await f.waitForEnvironment("testing", "empty render refused", (e) => e.status?.lastAttemptedRevision === empty && readyCondition(e)?.status === "False");
    assert.match(readyCondition(env)?.message ?? "", /zero objects/);
    assert.ok(await f.client.get("apps/v1", "Deployment", f.namespace, "web"), "the Deployment must survive an empty render");
    assert.ok(await f.client.get("v1", "ConfigMap", f.namespace, "web-config"));
  } finally {
    await f.cleanup();
  }
});

test("an object the API server rejects stops the apply with nothing applied half-way", async () => {
  const f = await agentFixture("atomic", underPath(P, webApp(IMAGE)));
  try {
    await f.createEnvironment("testing", { path: P, interval: "1h" });
    const agent = await f.startAgent();
    const first = await f.repo.git("rev-parse", "HEAD");
    await f.waitForEnvironment("testing", "Ready", (e) => isReady(e, first));
    const bad = await f.repo.commit({
      [`${P}/new-a.yaml`]: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: new-a\ndata: {a: \"1\"}\n",
      [`${P}/new-b.yaml`]: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: new-b\ndata: {b: \"1\"}\n",
      [`${P}/bad-svc.yaml`]: "apiVersion: v1\nkind: Service\nmetadata:\n  name: bad\nspec:\n  ports:\n    - port: 99999\n",
      [`${P}/config.yaml`]: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web-config\ndata:\n  MODE: \"changed\"\n",
    }, "add objects, one invalid");
    agent.controller.trigger(`${f.namespace}/testing`, "test");
    const env = await f.waitForEnvironment("testing", "apply failure reported", (e) => e.status?.lastAttemptedRevision === bad && readyCondition(e)?.status === "False");
    assert.match(readyCondition(env)?.message ?? "", /Service .*bad/);
    // The failed run deleted what it created. A retry after the failure backoff creates them again for a moment
    // and deletes them again, so the check waits for a moment between runs instead of reading once.
    await waitFor("created objects rolled back", async () => (
      await f.client.get("v1", "ConfigMap", f.namespace, "new-a") === undefined && await f.client.get("v1", "ConfigMap", f.namespace, "new-b") === undefined ? true : undefined
    ), 30_000);
    const config = await f.client.get("v1", "ConfigMap", f.namespace, "web-config");
    assert.equal((config?.data as Record<string, string>).MODE, "test", "updates wait until every create succeeded");
    assert.equal(env.status?.lastAppliedRevision, first);
  } finally {
    await f.cleanup();
  }
});
