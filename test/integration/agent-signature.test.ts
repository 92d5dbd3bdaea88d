// The agent's verify step against a real registry: a digest signed by a key baton.yaml lists is applied;
// an unsigned one is refused — Ready=False (SignatureVerificationFailed), a Warning Event, nothing
// applied, the previous revision keeps running.
import { test } from "node:test";
import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { agentFixture, isReady, readyCondition } from "../support/agent-fixture.js";
import { underPath, webApp } from "../support/config-repo.js";
import { TestRegistry } from "../support/registry.js";

const P = "environments/testing";

test("the agent applies a signed digest and refuses an unsigned one, keeping the previous revision", async () => {
  const registry = await TestRegistry.start();
  const key = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  const web = registry.repo("acme/web");
  const signed = await registry.pushImage("acme/web", "1.0.0", { content: "signed" });
  await registry.sign("acme/web", signed, key.privateKey);
  const unsigned = await registry.pushImage("acme/web", "1.1.0", { content: "unsigned" });
  const f = await agentFixture("sig", {
    "baton.yaml": `apiVersion: baton.dev/v1alpha1
kind: Pipeline
environments:
  - name: testing
    path: ${P}
    verify: {keys: [keys/cosign.pub]}
`,
    "keys/cosign.pub": key.publicKey.export({ type: "spki", format: "pem" }).toString(),
    ...underPath(P, webApp(`${web}@${signed}`, { replicas: 1 })),
  });
  try {
    await f.startAgent();
    await f.createEnvironment("testing", { path: P, interval: "2s" });
    const first = await f.repo.git("rev-parse", "HEAD");
    await f.waitForEnvironment("testing", "the signed revision applied", (e) => isReady(e, first));
    assert.equal(await f.deploymentImage("web"), `${web}@${signed}`);

    const second = await f.repo.commit(underPath(P, webApp(`${web}@${unsigned}`, { replicas: 1 })), "pin an unsigned build");
    const refused = await f.waitForEnvironment("testing", "the unsigned revision refused", (e) => e.status?.lastAttemptedRevision === second && readyCondition(e)?.status === "False");
    assert.equal(readyCondition(refused)?.reason, "SignatureVerificationFailed");
    assert.match(readyCondition(refused)?.message ?? "", new RegExp(`refusing to apply ${web.replace(/\./g, "\\.")}@${unsigned}: NOT SIGNED`));
    assert.equal(refused.status?.lastAppliedRevision, first);
    assert.equal(await f.deploymentImage("web"), `${web}@${signed}`);
    const events = await f.client.list("v1", "Event", f.namespace);
    assert.ok(events.some((e) => (e as { reason?: string; message?: string }).reason === "ReconcileFailed" && /NOT SIGNED/.test((e as { message?: string }).message ?? "")));
  } finally {
    await f.cleanup();
    await registry.stop();
  }
});
