// Honest apply: an apply that fails half-way still records every object it created, so when git drops
// them they are pruned, never orphaned; an object that opts in with baton.dev/recreate is deleted and
// recreated when an immutable field changes; hostile revisions from the bad-input corpus apply nothing.
import { test } from "node:test";
import assert from "node:assert/strict";
import { promises as fs } from "node:fs";
import path from "node:path";
import { agentFixture, isReady, readyCondition } from "../support/agent-fixture.js";
import { digest, underPath, webApp } from "../support/config-repo.js";
import { waitFor } from "../support/processes.js";

const P = "environments/testing";

test("a failed apply leaves no orphan: what it created is in the inventory and pruned once git drops it", async () => {
  const f = await agentFixture("honest", underPath(P, webApp(`ghcr.io/acme/web@${digest("honest")}`)));
  const extra = `${f.namespace}-extra`;
  try {
    await f.createEnvironment("testing", { path: P });
    const agent = await f.startAgent();
    const trigger = () => agent.controller.trigger(`${f.namespace}/testing`, "test");
    const first = await f.repo.git("rev-parse", "HEAD");
    await f.waitForEnvironment("testing", "Ready", (e) => isReady(e, first));

    // A new Namespace (created first, in stage 0) and a ConfigMap the API server rejects (stage 1).
    const broken = await f.repo.commit({
      [`${P}/namespace.yaml`]: `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${extra}\n`,
      [`${P}/bad.yaml`]: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bad\ndata:\n  \"not a valid key!\": x\n",
    }, "a namespace and an invalid ConfigMap");
    trigger();
    const failed = await f.waitForEnvironment("testing", "apply failed", (e) => e.status?.lastAttemptedRevision === broken && readyCondition(e)?.status === "False");
    assert.match(readyCondition(failed)?.message ?? "", /bad/);
    assert.ok(await f.client.get("v1", "Namespace", undefined, extra), "stage 0 was applied before stage 1 failed");
    const ids = (failed.status?.inventory?.entries ?? []).map((e) => e.id);
    assert.ok(ids.includes(`_${extra}__Namespace`), `the inventory records the created Namespace: ${ids.join(", ")}`);

    const fixed = await f.repo.commit({ [`${P}/namespace.yaml`]: null, [`${P}/bad.yaml`]: null }, "drop both");
    trigger();
    const ready = await f.waitForEnvironment("testing", "Ready after dropping both", (e) => isReady(e, fixed));
    await waitFor("the namespace pruned", async () => {
      const ns = await f.client.get("v1", "Namespace", undefined, extra);
      return !ns || ns.metadata.deletionTimestamp ? true : undefined;
    }, 30_000);
    assert.ok(!(ready.status?.inventory?.entries ?? []).some((e) => e.id.includes(extra)), "the inventory is exactly git again");
  } finally {
    await f.client.delete({ group: "", version: "v1", kind: "Namespace", name: extra }).catch(() => undefined);
    await f.cleanup();
  }
});

test("an immutable field change recreates an object that opts in with baton.dev/recreate", async () => {
  const deployment = (app: string) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: worker
  annotations: {baton.dev/recreate: "true"}
spec:
  replicas: 1
  selector: {matchLabels: {app: ${app}}}
  template:
    metadata: {labels: {app: ${app}}}
    spec:
      containers: [{name: worker, image: "ghcr.io/acme/worker@${digest("worker")}"}]
`;
  const f = await agentFixture("recreate", { [`${P}/worker.yaml`]: deployment("worker-v1") });
  try {
    await f.createEnvironment("testing", { path: P });
    const agent = await f.startAgent();
    const first = await f.repo.git("rev-parse", "HEAD");
    await f.waitForEnvironment("testing", "Ready", (e) => isReady(e, first));
    const before = await f.client.get("apps/v1", "Deployment", f.namespace, "worker");

    const changed = await f.repo.commit({ [`${P}/worker.yaml`]: deployment("worker-v2") }, "new selector (immutable)");
    agent.controller.trigger(`${f.namespace}/testing`, "test");
    await f.waitForEnvironment("testing", "Ready with the new selector", (e) => isReady(e, changed));
    const after = await f.client.get("apps/v1", "Deployment", f.namespace, "worker");
    assert.notEqual(after?.metadata.uid, before?.metadata.uid, "a new object");
    assert.deepEqual((after?.spec as { selector?: unknown }).selector, { matchLabels: { app: "worker-v2" } });
  } finally {
    await f.cleanup();
  }
});

test("hostile input from the bad-input corpus reaches the agent: nothing is applied, inventory and git stay as they were", async () => {
  const corpus = path.resolve(import.meta.dirname, "../fixtures/bad");
  const image = `ghcr.io/acme/web@${digest("hostile")}`;
  const good = underPath(P, webApp(image));
  const f = await agentFixture("hostile", good);
  try {
    await f.createEnvironment("testing", { path: P });
    const agent = await f.startAgent();
    const first = await f.repo.git("rev-parse", "HEAD");
    const ready = await f.waitForEnvironment("testing", "Ready", (e) => isReady(e, first));
    const inventory = ready.status?.inventory;
    assert.ok((inventory?.entries.length ?? 0) > 0, "the good revision was applied (control)");
    let files: string[] = Object.keys(good);
    for (const name of ["yaml-octal-default-mode", "yaml-timestamp-label", "alias-bomb", "kustomize-remote-configmap-files"]) {
      const expected = (await fs.readFile(path.join(corpus, name, "expect"), "utf8")).trim();
      const caseDir = path.join(corpus, name, "environments/testing");
      // The environment folder becomes the corpus case's folder: its good files go, the hostile ones come.
      const change: Record<string, string | null> = Object.fromEntries(files.map((file) => [file, null]));
      for (const file of await fs.readdir(caseDir)) change[`${P}/${file}`] = await fs.readFile(path.join(caseDir, file), "utf8");
      files = Object.keys(change).filter((file) => change[file] !== null);
      const bad = await f.repo.commit(change, name);
      agent.controller.trigger(`${f.namespace}/testing`, "test");
      const failed = await f.waitForEnvironment("testing", `${name} refused`, (e) => e.status?.lastAttemptedRevision === bad && readyCondition(e)?.status === "False");
      assert.equal(failed.status?.conditions?.find((c) => c.type === "Stalled")?.reason, expected, name);
      assert.equal(failed.status?.lastAppliedRevision, first, name);
      assert.deepEqual(failed.status?.inventory, inventory, `${name}: inventory unchanged`);
      // Nothing of the hostile revision exists (each case's workload is "app"), and the good one still runs.
      assert.equal(await f.client.get("apps/v1", "Deployment", f.namespace, "app"), undefined, name);
      assert.equal(await f.deploymentImage("web"), image, name);
    }
    // The agent only reads git: the server holds exactly what this test pushed, one branch.
    const refs = (await f.repo.git("ls-remote", "origin")).split("\n").map((l) => l.split("\t"));
    assert.deepEqual(refs.map(([, ref]) => ref).filter((ref) => ref !== "HEAD"), ["refs/heads/main"]);
    assert.equal(refs.find(([, ref]) => ref === "refs/heads/main")?.[0], await f.repo.git("rev-parse", "HEAD"));
  } finally {
    await f.cleanup();
  }
});
