// Repo discipline on the real control plane: the agent refuses to apply an environment that another
// environment's commit could change (a kustomization reading another environment's folder, a folder that
// overlaps another's), applies nothing from that revision, and recovers once git is fixed.
// test-lane: shares-cluster
import { test } from "node:test";
import assert from "node:assert/strict";
import { agentFixture, isReady, readyCondition } from "../support/agent-fixture.js";
import { digest, underPath, webApp } from "../support/config-repo.js";

const IMAGE = `ghcr.io/acme/web@${digest("boundaries")}`;
const UNREVIEWED = `ghcr.io/acme/web@${digest("boundaries-testing")}`;
const pipeline = (extra = "") => `apiVersion: baton.dev/v1alpha1
kind: Pipeline
environments:
  - name: testing
    path: environments/testing
  - name: production
    path: environments/production
    promoteFrom: testing
${extra}`;

test("production is not applied while testing's folder can change it, and is again once git is fixed", async () => {
  const f = await agentFixture("bounds", {
    "baton.yaml": pipeline(),
    ...underPath("environments/testing", webApp(IMAGE)),
    ...underPath("environments/production", webApp(IMAGE)),
  });
  try {
    await f.createEnvironment("production", { path: "environments/production", interval: "1h" });
    const agent = await f.startAgent();
    const trigger = () => agent.controller.trigger(`${f.namespace}/production`, "test");
    const good = await f.repo.git("rev-parse", "HEAD");
    await f.waitForEnvironment("production", "Ready", (e) => isReady(e, good));

    // 1. One commit that needs no production review: testing gets a new image and production's build reads testing's folder.
    const crossed = await f.repo.commit({
      ...underPath("environments/testing", webApp(UNREVIEWED)),
      "environments/production/kustomization.yaml": "resources:\n  - ../testing\n",
    }, "production builds from testing");
    trigger();
    let env = await f.waitForEnvironment("production", "cross reference refused", (e) => e.status?.lastAttemptedRevision === crossed && readyCondition(e)?.status === "False");
    assert.match(readyCondition(env)?.message ?? "", /ENV_CROSS_REFERENCE/);
    assert.equal(env.status?.conditions?.find((c) => c.type === "Stalled")?.status, "True", "git must change before a retry can help");
    assert.match(readyCondition(env)?.message ?? "", /environments\/production\/kustomization\.yaml: resources\[0\]: environment "production" reads environments\/testing/);
    assert.equal(env.status?.lastAppliedRevision, good);
    assert.equal(await f.deploymentImage("web"), IMAGE, "nothing from testing's folder reached production");

    // 2. A new environment whose folder holds production's.
    const overlapping = await f.repo.commit({
      "environments/production/kustomization.yaml": null,
      "baton.yaml": pipeline("  - name: sandbox\n    path: environments\n"),
    }, "an environment over every folder");
    trigger();
    env = await f.waitForEnvironment("production", "overlap refused", (e) => e.status?.lastAttemptedRevision === overlapping && readyCondition(e)?.status === "False");
    assert.match(readyCondition(env)?.message ?? "", /ENV_OVERLAP/);
    assert.match(readyCondition(env)?.message ?? "", /"production" \(environments\/production\) and "sandbox" \(environments\) use nested folders/);
    assert.equal(env.status?.lastAppliedRevision, good);
    assert.equal(await f.deploymentImage("web"), IMAGE);

    // 3. Fixed in git: applied again.
    const fixed = await f.repo.commit({ "baton.yaml": pipeline() }, "drop sandbox");
    trigger();
    await f.waitForEnvironment("production", "Ready again", (e) => isReady(e, fixed));
  } finally {
    await f.cleanup();
  }
});
