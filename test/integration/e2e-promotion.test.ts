// End to end, no mocks in the path: pin → promote testing→staging (PR) → policy pending until soaked →
// merge → the agent applies on the real control plane → GitHub deployment success → promote
// staging→production → merge → rollback PR → merge → production runs the previous digest again.
import { test } from "node:test";
import assert from "node:assert/strict";
import { promises as fs } from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { startAgent } from "../../src/agent/agent.js";
import { parseAgentConfig } from "../../src/agent/config.js";
import { ENV_API_VERSION, ENV_KIND, type EnvironmentObject } from "../../src/agent/environment.js";
import { KubeClient } from "../../src/kube/client.js";
import { nextWindowOpen } from "../../src/policy/windows.js";
import { pin } from "../../src/promote/pin.js";
import { runPolicy } from "../../src/promote/policy-run.js";
import { promote } from "../../src/promote/promote.js";
import { rollback } from "../../src/promote/rollback.js";
import { status } from "../../src/promote/status.js";
import { clusterEnvironments } from "../../src/cli/status.js";
import { installCrd } from "../support/agent-fixture.js";
import { cloneConfigRepo, git, seedConfigRepo } from "../support/example-repo.js";
import { GitServer } from "../support/git-server.js";
import { GitHubDouble } from "../support/github-double.js";
import { waitFor } from "../support/processes.js";
import { testKubeConfig, testLogger } from "../support/testenv.js";

const NEW = `sha256:${"e2e0".repeat(16)}`;

test("pin, promote through staging to production with policy and deployments, then roll production back", async () => {
  const client = new KubeClient(testKubeConfig());
  const server = await GitServer.create();
  const github = await GitHubDouble.start(server);
  const ns = `e2e-${Date.now().toString(36)}`;
  const cacheDir = await fs.mkdtemp(path.join(os.tmpdir(), "baton-e2e-"));
  let agent: Awaited<ReturnType<typeof startAgent>> | undefined;
  const cleanups: Array<() => Promise<void>> = [];
  try {
    await installCrd(client);
    await seedConfigRepo(server, "acme/config");
    const dev = await cloneConfigRepo(server, "acme/config", "Dev");
    // Notifications go to a local receiver, configured in baton.yaml like a team's chat webhook.
    const received: Array<{ type: string; environment: string }> = [];
    const receiver = http.createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString()));
      req.on("end", () => {
        received.push(JSON.parse(body) as { type: string; environment: string });
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", r));
    cleanups.push(() => new Promise<void>((r) => receiver.close(() => r())));
    await fs.appendFile(path.join(dev, "baton.yaml"), `notifications:\n  - name: chat\n    type: webhook\n    url: http://127.0.0.1:${(receiver.address() as { port: number }).port}/hook\n`);
    // This test is about the promotion path, so its Deployments run no Pods: the fake kubelet (kwok) on a
    // loaded 2-core machine once stalled a rolling update here. Rollouts with real Pods are covered by the
    // agent tests and the foundation test.
    for (const env of ["testing", "staging", "production"]) {
      const file = path.join(dev, "environments", env, "web.yaml");
      await fs.writeFile(file, (await fs.readFile(file, "utf8")).replace(/replicas: \d+/, "replicas: 0"));
    }
    await git(dev, "commit", "--quiet", "-am", "Notify the team; no Pods in this test");
    await git(dev, "push", "--quiet", "origin", "main");
    const gh = (remoteUrl: string | undefined) => github.connect(remoteUrl);
    await client.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: ns } });
    await client.create({ apiVersion: "v1", kind: "Secret", metadata: { name: "creds", namespace: ns }, stringData: { githubToken: github.token } });
    for (const env of ["testing", "staging", "production"]) {
      await client.create({ apiVersion: ENV_API_VERSION, kind: ENV_KIND, metadata: { name: env, namespace: ns }, spec: {
        url: server.url("acme/config"), path: `environments/${env}`, interval: "1s", timeout: "120s", secretRef: { name: "creds" },
        github: { repository: "acme/config", apiUrl: github.baseUrl },
      } });
    }
    agent = await startAgent(parseAgentConfig({ namespace: ns, port: 0, bindAddress: "127.0.0.1", cacheDir, leaderElect: false, resyncMs: 300, logLevel: "debug", allowInsecureHttp: true /* test git server: http on loopback */ }), testLogger("e2e"), testKubeConfig());
    const envAt = (name: string, revision: string) => waitFor(`${name} Ready at ${revision.slice(0, 7)}`, async () => {
      const e = (await client.get(ENV_API_VERSION, ENV_KIND, ns, name)) as EnvironmentObject | undefined;
      return e?.status?.lastAppliedRevision === revision && e.status.conditions?.some((c) => c.type === "Ready" && c.status === "True") ? e : undefined;
    }, 120_000); // generous: a new namespace's ServiceAccount can lag on a loaded 2-core machine
    const image = async (env: string) => ((await client.get("apps/v1", "Deployment", `web-${env}`, "web"))?.spec as { template: { spec: { containers: Array<{ image: string }> } } }).template.spec.containers[0]?.image;
    const deployed = (env: string) => waitFor(`GitHub deployment success for ${env}`, async () => {
      const d = github.deployments.filter((x) => x.environment === env).at(-1);
      const success = d?.statuses.find((s) => s.state === "success");
      return success ? new Date(success.created_at) : undefined;
    }, 20_000);
    const mergeThroughGitHub = async (number: number | undefined) => {
      const { sha } = await gh(server.url("acme/config")).mergePull(number ?? 0, { method: "merge" });
      await git(dev, "pull", "--quiet", "--ff-only");
      return sha;
    };
    const policyOf = (sha: string | undefined) => github.statuses.filter((s) => s.sha === sha && s.context === "baton/policy").at(-1)?.state;

    // CI pins a new build into testing.
    const pinned = await pin({ repo: dev, env: "testing", images: [`web=ghcr.io/acme/web:1.6.0@${NEW}`], mode: "commit" });
    await envAt("testing", pinned.commit ?? "");
    assert.match(await image("testing") ?? "", new RegExp(`@${NEW}$`));
    const testingHealthy = await deployed("testing");

    // testing → staging: the PR waits for the 10m soak, then policy allows it.
    const toStaging = await promote({ repo: dev, from: "testing", to: "staging", github: gh });
    assert.equal(policyOf(toStaging.commit), "pending");
    const soaked = await runPolicy({ repo: dev, github: gh(server.url("acme/config")), now: () => new Date(testingHealthy.getTime() + 11 * 60_000) });
    assert.deepEqual(soaked.evaluated.map((e) => [e.pull, e.state]), [[toStaging.pull?.number, "success"]]);
    assert.equal(policyOf(toStaging.commit), "success");
    const stagingMerge = await mergeThroughGitHub(toStaging.pull?.number);
    await envAt("staging", stagingMerge);
    assert.match(await image("staging") ?? "", new RegExp(`@${NEW}$`));
    const stagingHealthy = await deployed("staging");

    // staging → production: needs 1h soak and a weekday window.
    const previousProduction = await image("production");
    const toProduction = await promote({ repo: dev, from: "staging", to: "production", github: gh });
    const inWindow = nextWindowOpen(["* 9-16 * * 1-5"], new Date(stagingHealthy.getTime() + 61 * 60_000)) as Date;
    const allowed = await runPolicy({ repo: dev, github: gh(server.url("acme/config")), now: () => inWindow });
    assert.equal(allowed.evaluated.find((e) => e.to === "production")?.state, "success");
    const productionMerge = await mergeThroughGitHub(toProduction.pull?.number);
    await envAt("production", productionMerge);
    assert.match(await image("production") ?? "", new RegExp(`@${NEW}$`));

    // Roll production back: a revert PR; after the merge the previous digest runs again and is rejected.
    const rb = await rollback({ repo: dev, env: "production", github: gh });
    assert.ok(github.pulls.find((p) => p.number === rb.pull?.number)?.labels.includes("rollback"));
    const rollbackMerge = await mergeThroughGitHub(rb.pull?.number);
    await envAt("production", rollbackMerge);
    assert.equal(await image("production"), previousProduction);
    await assert.rejects(promote({ repo: dev, from: "staging", to: "production", github: gh }), (e: Error & { code?: string }) => e.code === "PROMOTE_REJECTED_DIGEST");
    // baton status: the repo's pins, the agent's view from the cluster, and GitHub's deployments.
    const report = await status(dev, async () => gh(server.url("acme/config")), () => clusterEnvironments(process.env.BATON_TEST_KUBECONFIG ?? "", ns));
    const production = report.environments.find((e) => e.name === "production");
    assert.equal(production?.cluster?.ready, "True");
    assert.equal(production?.cluster?.revision, rollbackMerge);
    assert.equal(production?.deployment?.state, "success");
    assert.equal(production?.images[0]?.rejected, false, "production runs the previous digest, which is not rejected");
    assert.deepEqual(github.violations, []);
    const events = await waitFor("notifications", async () => (received.some((e) => e.type === "promotion.merged" && e.environment === "production") ? received : undefined), 10_000);
    const seen = new Set(events.map((e) => `${e.type}:${e.environment}`));
    for (const want of ["deploy.succeeded:testing", "promotion.opened:staging", "promotion.merged:staging", "deploy.succeeded:staging", "promotion.opened:production", "rollback.opened:production"]) {
      assert.ok(seen.has(want), `missing notification ${want}; got ${[...seen].join(", ")}`);
    }
  } finally {
    await agent?.stop();
    for (const c of cleanups) await c();
    await github.stop();
    await server.destroy();
    for (const n of [ns, "web-testing", "web-staging", "web-production"]) await client.delete({ group: "", version: "v1", kind: "Namespace", name: n }).catch(() => undefined);
    client.close();
    await fs.rm(cacheDir, { recursive: true, force: true });
  }
});
