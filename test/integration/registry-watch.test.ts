// Registry watch against a real OCI registry (go-containerregistry's, pushed to over the distribution API
// and with crane), the real git server and the GitHub stand-in: new tags become one pin PR per
// environment, reruns change nothing, and registry faults are clear errors, never crashes.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { GitServer } from "../support/git-server.js";
import { GitHubDouble } from "../support/github-double.js";
import { cloneConfigRepo, git } from "../support/example-repo.js";
import { ConfigRepo, underPath, webApp } from "../support/config-repo.js";
import { RegistryGate, TestRegistry } from "../support/registry.js";
import { freePort, waitFor } from "../support/processes.js";
import { startPromoter } from "../../src/agent/promoter.js";
import { silentLogger } from "../../src/log.js";
import { promote } from "../../src/promote/promote.js";
import { watch } from "../../src/promote/watch.js";
import { RegistryClient } from "../../src/registry/client.js";
import { dockerConfigCredentials } from "../../src/registry/auth.js";
import { BatonError } from "../../src/errors.js";
import { parsePublicKey, verifyImage } from "../../src/registry/signature.js";
import { cliArgs } from "../support/cli.js";

const exec = promisify(execFile);
const root = path.resolve(import.meta.dirname, "../..");
let server: GitServer;
let github: GitHubDouble;
let registry: TestRegistry;
let repo: ConfigRepo;
let first: string;

const gh = (remoteUrl: string | undefined) => github.connect(remoteUrl);
const isCode = (code: string) => (e: unknown) => e instanceof BatonError && e.code === code;
const client = new RegistryClient();

function pipeline(web: string, mode: "pr" | "commit", semver = ">=1.0.0 <2", keys?: string[]): string {
  return `apiVersion: baton.dev/v1alpha1
kind: Pipeline
environments:
  - name: testing
    path: environments/testing
    namespace: web-testing
    imageWatch:
      mode: ${mode}
      images:
        - repository: ${web}
          tags: {semver: "${semver}"}
${keys ? `    verify: {keys: [${keys.join(", ")}]}\n` : ""}`;
}

before(async () => {
  server = await GitServer.create({ auth: { username: "ci", password: "s3cret" } });
  github = await GitHubDouble.start(server);
  registry = await TestRegistry.start();
  first = await registry.pushImage("acme/web", "1.0.0", { content: "v1.0.0" });
  repo = await ConfigRepo.create(server, "acme/config", {
    "baton.yaml": pipeline(registry.repo("acme/web"), "pr"),
    ...underPath("environments/testing", webApp(`${registry.repo("acme/web")}:1.0.0@${first}`)),
  });
});
after(async () => {
  assert.deepEqual(github.violations, []);
  await github.stop();
  await registry.stop();
  await server.destroy();
  await repo.destroy();
});

test("a new multi-arch semver tag becomes one pin PR with provenance; the same tag again changes nothing; a newer one supersedes it", async () => {
  const ci = await cloneConfigRepo(server, "acme/config", "CI");
  const upToDate = await watch({ repo: ci, registry: client, github: gh });
  assert.deepEqual(upToDate.map((r) => r.action), ["up-to-date"]);

  // 1.1.0 is a multi-arch index; 2.0.0 is outside the range and 1.2.0-rc.1 a prerelease: both ignored.
  const revision = "0123456789abcdef0123456789abcdef01234567";
  const labels = { "org.opencontainers.image.revision": revision, "org.opencontainers.image.source": "https://github.com/acme/web" };
  const amd = await registry.pushImage("acme/web", "build-amd64", { content: "1.1.0 amd64", created: "2026-11-27T08:00:00Z", labels });
  const arm = await registry.pushImage("acme/web", "build-arm64", { content: "1.1.0 arm64", created: "2026-11-27T08:00:00Z", labels, platform: { os: "linux", architecture: "arm64" } });
  const index = await registry.pushIndex("acme/web", "1.1.0", [{ digest: amd, os: "linux", architecture: "amd64" }, { digest: arm, os: "linux", architecture: "arm64" }]);
  await registry.crane("tag", `${registry.repo("acme/web")}@${index}`, "latest");
  await registry.pushImage("acme/web", "2.0.0", { content: "v2" });
  await registry.pushImage("acme/web", "1.2.0-rc.1", { content: "rc" });
  // Baton pins what crane (a standard client) resolves the tag to: the index, not a platform image.
  assert.equal(await registry.crane("digest", `${registry.repo("acme/web")}:1.1.0`), index);

  const [opened] = await watch({ repo: ci, registry: client, github: gh });
  assert.equal(opened?.action, "opened", opened?.error?.oneLine());
  assert.deepEqual(opened?.images, [{ repository: registry.repo("acme/web"), tag: "1.1.0", digest: index, current: first }]);
  const pr = github.pulls.find((p) => p.number === opened?.pull?.number);
  assert.equal(pr?.head, `baton/pin/testing/${index.slice(7, 14)}`);
  assert.deepEqual(pr?.labels.sort(), ["baton", "env:testing", "pin"]);
  assert.ok(pr?.body.includes(`tags \`1.1.0\`, \`latest\`; multi-arch index (linux/amd64, linux/arm64); created 2026-11-27T08:00:00Z; revision [0123456789ab](https://github.com/acme/web/commit/${revision})`), pr?.body);
  const check = await cloneConfigRepo(server, "acme/config", "Check");
  await git(check, "fetch", "--quiet", "origin", pr?.head ?? "");
  assert.match(await git(check, "show", "FETCH_HEAD:environments/testing/deploy.yaml"), new RegExp(`image: ${registry.repo("acme/web").replace(/\./g, "\\.")}:1\\.1\\.0@${index}`));
  const headBefore = await git(check, "rev-parse", "FETCH_HEAD");

  // CI pushes 1.1.0 again (the same digest, retagged with crane): no new PR, no new commit on the branch.
  await registry.crane("tag", `${registry.repo("acme/web")}@${index}`, "1.1.0");
  const pullsBefore = github.pulls.length;
  const [again] = await watch({ repo: ci, registry: client, github: gh });
  assert.equal(again?.action, "proposed");
  assert.equal(again?.pull?.number, pr?.number);
  assert.equal(github.pulls.length, pullsBefore);
  assert.equal((await git(check, "ls-remote", "origin", pr?.head ?? "")).split("\t")[0], headBefore);

  // A newer build: one new PR, the older one closed as superseded.
  const next = await registry.pushImage("acme/web", "1.2.0", { content: "v1.2.0" });
  const [newer] = await watch({ repo: ci, registry: client, github: gh });
  assert.equal(newer?.action, "opened");
  assert.deepEqual(newer?.superseded, [pr?.number]);
  assert.equal(pr?.state, "closed");
  assert.deepEqual(github.pulls.filter((p) => p.state === "open").map((p) => p.head), [`baton/pin/testing/${next.slice(7, 14)}`]);
});

test("mode commit pins straight onto the branch where the pipeline allows it; the rerun is a no-op", async () => {
  await repo.git("pull", "--quiet", "origin", "main");
  await repo.commit({ "baton.yaml": pipeline(registry.repo("acme/web"), "commit") }, "watch commits directly");
  const ci = await cloneConfigRepo(server, "acme/config", "CI");
  const [pushed] = await watch({ repo: ci, registry: client });
  assert.equal(pushed?.action, "pushed", pushed?.error?.oneLine());
  const check = await cloneConfigRepo(server, "acme/config", "Check");
  assert.match(await fs.readFile(path.join(check, "environments/testing/deploy.yaml"), "utf8"), /:1\.2\.0@sha256:/);
  assert.equal(await git(check, "log", "-1", "--format=%an", "origin/main"), "CI");
  const [rerun] = await watch({ repo: ci, registry: client });
  assert.equal(rerun?.action, "up-to-date");
});

test("the agent's promoter runs the same watch on its schedule", async () => {
  const clone = await cloneConfigRepo(server, "acme/config", "Promoter");
  const digest = await registry.pushImage("acme/web", "1.3.0", { content: "v1.3.0" });
  const promoter = startPromoter(clone, "* * * * * *", () => true, silentLogger, undefined, undefined, client);
  try {
    const check = await cloneConfigRepo(server, "acme/config", "Check");
    await waitFor("the promoter to pin 1.3.0", async () => {
      await git(check, "fetch", "--quiet", "origin");
      return (await git(check, "show", "origin/main:environments/testing/deploy.yaml")).includes(`:1.3.0@${digest}`) ? true : undefined;
    }, 60_000, 500);
    assert.equal(await git(check, "log", "-1", "--format=%s", "origin/main"), `Pin web@sha256:${digest.slice(7, 14)} in testing`);
  } finally {
    await promoter.stop();
  }
});

test("signatures: a signed digest gets baton/signature success, a wrongly signed or unsigned one failure, and mode commit refuses to push it", async () => {
  const key = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  const rogue = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  const pub = key.publicKey.export({ type: "spki", format: "pem" }).toString();
  await repo.git("pull", "--quiet", "origin", "main");
  await repo.commit({ "baton.yaml": pipeline(registry.repo("acme/web"), "pr", ">=1.0.0 <2", ["keys/cosign.pub"]), "keys/cosign.pub": pub }, "verify signatures");
  const ci = await cloneConfigRepo(server, "acme/config", "CI");

  const signed = await registry.pushImage("acme/web", "1.4.0", { content: "v1.4.0" });
  await registry.sign("acme/web", signed, key.privateKey);
  const [good] = await watch({ repo: ci, registry: client, github: gh });
  assert.equal(good?.action, "opened", good?.error?.oneLine());
  assert.deepEqual(good?.signatures?.map((x) => x.result), [{ status: "verified", key: "keys/cosign.pub" }]);
  const status = (sha: string | undefined) => github.statuses.filter((x) => x.sha === sha && x.context === "baton/signature").map((x) => [x.state, x.description]);
  assert.deepEqual(status(good?.commit), [["success", "1 image(s) signed (keys/cosign.pub)"]]);
  assert.match(github.pulls.find((p) => p.number === good?.pull?.number)?.body ?? "", /tags `1\.4\.0`; no creation time; no org\.opencontainers\.image\.revision label; signed \(verified with keys\/cosign\.pub\)/);

  // Signed by a key baton.yaml does not list, and a signature copied from another digest: both invalid.
  const wrong = await registry.pushImage("acme/web", "1.5.0", { content: "v1.5.0" });
  await registry.sign("acme/web", wrong, rogue.privateKey);
  const [bad] = await watch({ repo: ci, registry: client, github: gh });
  assert.equal(bad?.action, "opened");
  assert.deepEqual(status(bad?.commit), [["failure", "web: invalid signature"]]);
  assert.match(github.pulls.find((p) => p.number === bad?.pull?.number)?.body ?? "", /signature INVALID: no signature verifies with keys\/cosign\.pub/);
  // A valid signature of another digest, copied onto this one's signature tag, is no signature of it.
  const moved = await registry.pushImage("acme/web", "1.5.1", { content: "v1.5.1" });
  await registry.sign("acme/web", moved, key.privateKey, { payloadDigest: signed });
  assert.deepEqual(await verifyImage(client, registry.repo("acme/web"), moved, [parsePublicKey(pub, "keys/cosign.pub")]), { status: "invalid", reason: `a signature signs ${signed}, not this digest` });

  // mode commit: an unsigned digest is never pushed.
  await repo.git("pull", "--quiet", "origin", "main");
  await repo.commit({ "baton.yaml": pipeline(registry.repo("acme/web"), "commit", ">=1.0.0 <2", ["keys/cosign.pub"]) }, "verify signatures, commit directly");
  const unsigned = await registry.pushImage("acme/web", "1.6.0", { content: "v1.6.0" });
  const mainBefore = (await git(ci, "ls-remote", "origin", "main")).split("\t")[0];
  const [refused] = await watch({ repo: ci, registry: client });
  assert.equal(refused?.action, "failed");
  assert.equal(refused?.error?.code, "SIGNATURE_MISSING");
  assert.equal(refused?.error?.message, `${registry.repo("acme/web")}@${unsigned}: NOT SIGNED; nothing was pinned`);
  assert.equal((await git(ci, "ls-remote", "origin", "main")).split("\t")[0], mainBefore);
});

test("baton promote into an environment with verify posts baton/signature on the promotion PR: success when signed, failure when not", async () => {
  const key = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  const web = registry.repo("acme/web");
  const signed = await registry.pushImage("acme/web", "3.0.0", { content: "v3.0.0" });
  await registry.sign("acme/web", signed, key.privateKey);
  const unsigned = await registry.pushImage("acme/web", "3.1.0", { content: "v3.1.0" });
  await repo.git("pull", "--quiet", "origin", "main");
  await repo.commit({
    "baton.yaml": `apiVersion: baton.dev/v1alpha1
kind: Pipeline
environments:
  - name: testing
    path: environments/testing
    namespace: web-testing
  - name: staging
    path: environments/staging
    namespace: web-staging
    promoteFrom: testing
    verify: {keys: [keys/cosign.pub]}
`,
    "keys/cosign.pub": key.publicKey.export({ type: "spki", format: "pem" }).toString(),
    ...underPath("environments/testing", webApp(`${web}:3.0.0@${signed}`)),
    ...underPath("environments/staging", webApp(`${web}:1.0.0@${first}`)),
  }, "staging verifies signatures");
  const ci = await cloneConfigRepo(server, "acme/config", "CI");
  const status = (sha: string | undefined) => github.statuses.filter((x) => x.sha === sha && x.context === "baton/signature").map((x) => [x.state, x.description]);

  const good = await promote({ repo: ci, from: "testing", to: "staging", github: gh, registry: async () => client });
  assert.equal(good.action, "opened");
  assert.deepEqual(good.signatures?.map((x) => x.result), [{ status: "verified", key: "keys/cosign.pub" }]);
  assert.deepEqual(status(good.commit), [["success", "1 image(s) signed (keys/cosign.pub)"]]);
  assert.match(github.pulls.find((p) => p.number === good.pull?.number)?.body ?? "", new RegExp(`\\*\\*Signatures \\(verify in baton\\.yaml\\)\\*\\*\\n- \`${web.replace(/\./g, "\\.")}@${signed}\`: signed \\(verified with keys/cosign\\.pub\\)`));

  await repo.git("pull", "--quiet", "origin", "main");
  await repo.commit(underPath("environments/testing", webApp(`${web}:3.1.0@${unsigned}`)), "testing runs an unsigned build");
  const bad = await promote({ repo: ci, from: "testing", to: "staging", github: gh, registry: async () => client });
  assert.equal(bad.action, "opened");
  assert.deepEqual(status(bad.commit), [["failure", "web: not signed"]]);
  assert.match(github.pulls.find((p) => p.number === bad.pull?.number)?.body ?? "", /: NOT SIGNED/);
});

test("registry faults are clear errors: unreachable, 401, 429, malformed manifest, a policy matching nothing", async () => {
  // Unreachable: nothing listens on the port.
  const dead = `127.0.0.1:${await freePort()}/acme/web`;
  await assert.rejects(client.listTags(dead), (e: unknown) => isCode("REGISTRY_UNREACHABLE")(e) && /ECONNREFUSED/.test((e as Error).message));

  // Token auth in front of the real registry: anonymous is refused with a hint, docker config credentials work.
  const gate = await RegistryGate.start(registry, { username: "puller", password: "pull-secret-42" });
  try {
    const behind = `${gate.host}/acme/web`;
    await assert.rejects(client.listTags(behind), (e: unknown) => isCode("REGISTRY_UNAUTHORIZED")(e) && /docker config/.test((e as BatonError).hint ?? ""));
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "baton-dockercfg-"));
    const cfg = path.join(dir, "config.json");
    await fs.writeFile(cfg, JSON.stringify({ auths: { [gate.host]: { auth: Buffer.from("puller:pull-secret-42").toString("base64") } } }));
    const authed = new RegistryClient({ credentials: await dockerConfigCredentials(cfg, false) });
    assert.ok((await authed.listTags(behind)).includes("1.2.0"));
    // 429 with Retry-After: 1 on the next request: waited for, then answered.
    gate.rateLimit = { remaining: 1, retryAfter: "1" };
    const before = gate.requests.length;
    assert.equal(await authed.resolve(behind, "1.0.0"), first);
    assert.deepEqual(gate.requests.slice(before).map((r) => r.method), ["HEAD", "HEAD"]);
    // The CLI: a wrong password is a one-line error naming the registry, exit code 1, no password shown.
    await fs.writeFile(cfg, JSON.stringify({ auths: { [gate.host]: { username: "puller", password: "wrong-password-7" } } }));
    const cliRepo = await cloneConfigRepo(server, "acme/config", "CLI");
    await fs.writeFile(path.join(cliRepo, "baton.yaml"), pipeline(behind, "pr"));
    const run = await exec(process.execPath, cliArgs("watch", "--dry-run", "--repo", cliRepo, "--docker-config", cfg), { cwd: root, encoding: "utf8" }).then(() => ({ code: 0, stdout: "", stderr: "" }), (e: { code: number; stdout: string; stderr: string }) => e);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /testing: the token endpoint of 127\.0\.0\.1:\d+ refused the configured credentials for 127\.0\.0\.1:\d+\/acme\/web \(HTTP 401\) \[127\.0\.0\.1:\d+\/acme\/web\] \(REGISTRY_UNAUTHORIZED\)/);
    assert.doesNotMatch(run.stdout + run.stderr, /wrong-password-7/);
  } finally {
    await gate.stop();
  }

  // A malformed manifest behind a tag: REGISTRY_BAD_MANIFEST naming the reference.
  await registry.pushManifest("acme/broken", "1.0.0", JSON.stringify({ schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json", config: "oops", layers: [] }), "application/vnd.oci.image.manifest.v1+json");
  await assert.rejects(client.manifest(registry.repo("acme/broken"), "1.0.0"), (e: unknown) => isCode("REGISTRY_BAD_MANIFEST")(e) && (e as BatonError).object === `${registry.repo("acme/broken")}:1.0.0`);

  // A policy that matches nothing: the environment's result carries WATCH_NO_MATCH; nothing is pushed or opened.
  await repo.git("pull", "--quiet", "origin", "main");
  await repo.commit({ "baton.yaml": pipeline(registry.repo("acme/web"), "pr", ">=5") }, "watch a range nothing matches");
  const ci = await cloneConfigRepo(server, "acme/config", "CI");
  const pulls = github.pulls.length;
  const [none] = await watch({ repo: ci, registry: client, github: gh });
  assert.equal(none?.action, "failed");
  assert.equal(none?.error?.code, "WATCH_NO_MATCH");
  assert.match(none?.error?.message ?? "", /no tag of 127\.0\.0\.1:\d+\/acme\/web matches semver >=5 \(\d+ tag\(s\) listed\)/);
  assert.equal(github.pulls.length, pulls);
});
