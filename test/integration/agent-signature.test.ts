// The agent's verify step against a real registry: a digest signed by a key baton.yaml lists is applied;
// an unsigned one is refused — Ready=False (SignatureVerificationFailed), a Warning Event, nothing
// applied, the previous revision keeps running. In the same fixture, the trust step: an Environment with
// spec.verify applies a commit signed by a trusted SSH key and refuses one signed by another key
// (CommitVerificationFailed), and a force-pushed unrelated history is refused (NonFastForward) until the
// Environment allows it — each time keeping the last good revision.
// test-lane: shares-cluster
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { ENV_API_VERSION, ENV_KIND } from "../../src/agent/environment.js";
import { agentFixture, isReady, readyCondition } from "../support/agent-fixture.js";
import { underPath, webApp } from "../support/config-repo.js";
import { TestRegistry } from "../support/registry.js";
import { waitFor } from "../support/processes.js";

const P = "environments/testing";
const SIGNED = "environments/signed";
const exec = promisify(execFile);
const configMap = (value: string) => ({ [`${SIGNED}/config.yaml`]: `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: signed-config\ndata:\n  VALUE: "${value}"\n` });

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
    // Events are written off the run's critical path: the status may show the refusal first.
    const failedEvent = (pattern: RegExp) => waitFor(`a ReconcileFailed Event matching ${pattern}`, async () => ((await f.client.list("v1", "Event", f.namespace)).some((e) => (e as { reason?: string; message?: string }).reason === "ReconcileFailed" && pattern.test((e as { message?: string }).message ?? "")) ? true : undefined), 30_000);
    await failedEvent(/NOT SIGNED/);

    // Commit signatures (spec.verify): only commits signed by a key in the Secret are applied.
    const keys = await fs.mkdtemp(path.join(os.tmpdir(), "baton-commit-keys-"));
    try {
      for (const name of ["trusted", "other"]) await exec("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", name, "-f", path.join(keys, name)]);
      const signWith = async (name: string) => {
        await f.repo.git("config", "gpg.format", "ssh");
        await f.repo.git("config", "user.signingkey", path.join(keys, name));
        await f.repo.git("config", "commit.gpgsign", "true");
      };
      await f.client.create({ apiVersion: "v1", kind: "Secret", metadata: { name: "commit-keys", namespace: f.namespace }, stringData: { "ci.pub": await fs.readFile(path.join(keys, "trusted.pub"), "utf8") } });
      await signWith("trusted");
      const good = await f.repo.commit(configMap("one"), "signed by the CI key");
      await f.createEnvironment("signed", { path: SIGNED, interval: "2s", verify: { secretRef: { name: "commit-keys" } } });
      await f.waitForEnvironment("signed", "the signed commit applied", (e) => isReady(e, good));
      const cm = async () => ((await f.client.get("v1", "ConfigMap", f.namespace, "signed-config"))?.data as Record<string, string> | undefined)?.VALUE;
      assert.equal(await cm(), "one");

      await signWith("other");
      const foreign = await f.repo.commit(configMap("two"), "signed by a key the Secret does not hold");
      const untrusted = await f.waitForEnvironment("signed", "the foreign signature refused", (e) => e.status?.lastAttemptedRevision === foreign && readyCondition(e)?.status === "False");
      assert.equal(readyCondition(untrusted)?.reason, "CommitVerificationFailed");
      assert.match(readyCondition(untrusted)?.message ?? "", new RegExp(`refusing to apply commit ${foreign.slice(0, 12)} of main: it is signed by a key that is not trusted \\(ED25519 key SHA256:`));
      assert.equal(untrusted.status?.lastAppliedRevision, good);
      assert.equal(await cm(), "one");
      await failedEvent(new RegExp(`commit ${foreign.slice(0, 12)}`));

      // History rewritten: a force-pushed, unrelated history (signed by the trusted key) is refused until allowed.
      await signWith("trusted");
      await f.repo.git("checkout", "--quiet", "--orphan", "rewritten");
      await fs.writeFile(path.join(f.repo.dir, SIGNED, "config.yaml"), configMap("three")[`${SIGNED}/config.yaml`] ?? "");
      await f.repo.git("add", "-A");
      await f.repo.git("commit", "--quiet", "-m", "history rewritten");
      await f.repo.git("push", "--quiet", "--force", "origin", "rewritten:main");
      const rewritten = await f.repo.git("rev-parse", "HEAD");
      const refused = await f.waitForEnvironment("signed", "the rewritten history refused", (e) => e.status?.lastAttemptedRevision === rewritten && readyCondition(e)?.reason === "NonFastForward");
      assert.match(readyCondition(refused)?.message ?? "", new RegExp(`refusing to apply commit ${rewritten.slice(0, 12)} of main: it does not descend from the last applied revision ${good.slice(0, 12)}`));
      assert.equal(refused.status?.lastAppliedRevision, good);
      assert.equal(await cm(), "one");
      await f.client.mergePatch(ENV_API_VERSION, ENV_KIND, f.namespace, "signed", { spec: { allowNonFastForward: true } });
      await f.waitForEnvironment("signed", "the rewritten history applied once allowed", (e) => isReady(e, rewritten));
      assert.equal(await cm(), "three");

      // The spec names its field: a bad mode is refused by the CRD schema before the agent sees it.
      await assert.rejects(f.client.mergePatch(ENV_API_VERSION, ENV_KIND, f.namespace, "signed", { spec: { verify: { mode: "Tag" } } }), /Unsupported value: "Tag"/);
    } finally {
      await fs.rm(keys, { recursive: true, force: true });
    }
  } finally {
    await f.cleanup();
    await registry.stop();
  }
});
