/**
 * The end-to-end promotion setup (its namespaces carry `suffix`, so a second fixture never waits on another's
 * namespace deletion): the example config repo on the git server, the
 * GitHub stand-in with branch protection (baton/policy required, one approval, code-owner review from the
 * CODEOWNERS `baton codeowners` writes), an in-process agent applying testing and staging on the real
 * control plane, and one promotion cycle per merge method.
 */
import assert from "node:assert/strict";
import { promises as fs } from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { startAgent } from "../../src/agent/agent.js";
import { parseAgentConfig } from "../../src/agent/config.js";
import { ENV_API_VERSION, ENV_KIND, type EnvironmentObject } from "../../src/agent/environment.js";
import { loadPipeline } from "../../src/config/pipeline.js";
import { BatonError } from "../../src/errors.js";
import type { GitHubApi, MergeMethod } from "../../src/github/api.js";
import { KubeClient } from "../../src/kube/client.js";
import { codeownersBlock } from "../../src/promote/codeowners.js";
import { history } from "../../src/promote/history.js";
import { findMergeTarget, mergeBatonPull } from "../../src/promote/merge.js";
import { pin } from "../../src/promote/pin.js";
import { runPolicy } from "../../src/promote/policy-run.js";
import { promote } from "../../src/promote/promote.js";
import { rollback } from "../../src/promote/rollback.js";
import { installCrd } from "./agent-fixture.js";
import { cloneConfigRepo, git, seedConfigRepo } from "./example-repo.js";
import { GitServer } from "./git-server.js";
import { DEFAULT_SETTINGS, GitHubDouble } from "./github-double.js";
import { waitFor } from "./processes.js";
import { testKubeConfig, testLogger } from "./testenv.js";

export const digestFor = (seed: string): string => `sha256:${seed.repeat(64 / seed.length)}`;
export const isCode = (code: string, pattern = /./) => (e: unknown): boolean => e instanceof BatonError && e.code === code && pattern.test(e.message);

export interface E2E {
  client: KubeClient;
  github: GitHubDouble;
  dev: string;
  api: GitHubApi;
  gh: (remoteUrl: string | undefined) => GitHubApi;
  ns: string;
  /** The namespace of an environment's objects (`web-<env>-<suffix>`). */
  appNamespace: (env: string) => string;
  received: Array<{ type: string; environment: string; revision?: string }>;
  envAt: (name: string, revision: string) => Promise<EnvironmentObject>;
  image: (env: string) => Promise<string | undefined>;
  /** Pulls main into the clone; returns its head. */
  main: () => Promise<string>;
  /** Another clone of the config repo (a person's own, e.g. the console's); removed by stop(). */
  clone: (who: string) => Promise<string>;
  stop: () => Promise<void>;
}

/** `environments`: the ones the agent deploys (the board's end-to-end test adds production: three columns with health). */
export async function startE2E(suffix: string, environments: readonly string[] = ["testing", "staging"]): Promise<E2E> {
  const client = new KubeClient(testKubeConfig());
  const server = await GitServer.create();
  const github = await GitHubDouble.start(server);
  const ns = `e2e-${suffix}-${Date.now().toString(36)}`;
  const appNamespace = (env: string) => `web-${env}-${suffix}`;
  const cacheDir = await fs.mkdtemp(path.join(os.tmpdir(), "baton-e2e-"));
  const received: E2E["received"] = [];
  const receiver = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      received.push(JSON.parse(body) as E2E["received"][number]);
      res.writeHead(200).end();
    });
  });
  let agent: Awaited<ReturnType<typeof startAgent>> | undefined;
  const clones: string[] = [];
  const clone = async (who: string) => {
    clones.push(await cloneConfigRepo(server, "acme/config", who));
    return clones.at(-1) ?? "";
  };
  const stop = async () => {
    await agent?.stop();
    await new Promise<void>((r) => receiver.close(() => r()));
    await github.stop();
    await server.destroy();
    for (const n of [ns, ...environments.map(appNamespace)]) await client.delete({ group: "", version: "v1", kind: "Namespace", name: n }).catch(() => undefined);
    client.close();
    for (const dir of [cacheDir, ...clones]) await fs.rm(dir, { recursive: true, force: true });
  };
  try {
    await installCrd(client);
    await seedConfigRepo(server, "acme/config");
    const dev = await cloneConfigRepo(server, "acme/config", "Dev");
    await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", r));
    await fs.appendFile(path.join(dev, "baton.yaml"), `notifications:\n  - name: chat\n    type: webhook\n    url: http://127.0.0.1:${(receiver.address() as { port: number }).port}/hook\n`);
    // Namespaces of this file only. The Deployments run no Pods: the promotion path is under test here, and
    // a starved fake kubelet (kwok) on a loaded 2-core machine once stalled a rolling update; rollouts with
    // real Pods are covered by the agent tests.
    await fs.writeFile(path.join(dev, "baton.yaml"), (await fs.readFile(path.join(dev, "baton.yaml"), "utf8")).replace(/namespace: web-(\w+)/g, `namespace: web-$1-${suffix}`));
    for (const env of environments) {
      const file = path.join(dev, "environments", env, "web.yaml");
      await fs.writeFile(file, (await fs.readFile(file, "utf8")).replace(/replicas: \d+/, "replicas: 0"));
      const nsFile = path.join(dev, "environments", env, "namespace.yaml");
      await fs.writeFile(nsFile, (await fs.readFile(nsFile, "utf8")).replace(`name: web-${env}`, `name: ${appNamespace(env)}`));
    }
    await fs.mkdir(path.join(dev, ".github"), { recursive: true });
    await fs.writeFile(path.join(dev, ".github/CODEOWNERS"), codeownersBlock(await loadPipeline(dev)));
    await git(dev, "add", "-A");
    await git(dev, "commit", "--quiet", "-m", "Notify the team; code owners; this test's namespaces, no Pods");
    await git(dev, "push", "--quiet", "origin", "main");
    github.protection.set("main", { requiredContexts: ["baton/policy"], requiredApprovingReviewCount: 1, requireCodeOwnerReviews: true });
    github.teams.set("acme/qa", ["alice"]);

    const repoUrl = server.url("acme/config");
    const gh = (remoteUrl: string | undefined) => github.connect(remoteUrl);
    await client.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: ns } });
    await client.create({ apiVersion: "v1", kind: "Secret", metadata: { name: "creds", namespace: ns }, stringData: { githubToken: github.token } });
    for (const env of environments) {
      await client.create({ apiVersion: ENV_API_VERSION, kind: ENV_KIND, metadata: { name: env, namespace: ns }, spec: {
        url: repoUrl, path: `environments/${env}`, interval: "1s", timeout: "120s", secretRef: { name: "creds" },
        github: { repository: "acme/config", apiUrl: github.baseUrl },
      } });
    }
    agent = await startAgent(parseAgentConfig({ namespace: ns, port: 0, bindAddress: "127.0.0.1", cacheDir, leaderElect: false, resyncMs: 300, logLevel: "debug", allowInsecureHttp: true /* test git server: http on loopback */ }), testLogger(`e2e-${suffix}`), testKubeConfig());
    const envAt = (name: string, revision: string) => waitFor(`${name} Ready at ${revision.slice(0, 7)}`, async () => {
      const e = (await client.get(ENV_API_VERSION, ENV_KIND, ns, name)) as EnvironmentObject | undefined;
      return e?.status?.lastAppliedRevision === revision && e.status.conditions?.some((c) => c.type === "Ready" && c.status === "True") ? e : undefined;
    }, 120_000); // generous: a new namespace's ServiceAccount can lag on a loaded 2-core machine
    const image = async (env: string) => ((await client.get("apps/v1", "Deployment", appNamespace(env), "web"))?.spec as { template: { spec: { containers: Array<{ image: string }> } } } | undefined)?.template.spec.containers[0]?.image;
    const main = async () => {
      await git(dev, "pull", "--quiet", "--ff-only");
      return git(dev, "rev-parse", "HEAD");
    };
    const start = await git(dev, "rev-parse", "HEAD");
    for (const env of environments) await envAt(env, start);
    return { client, github, dev, api: gh(repoUrl), gh, ns, appNamespace, received, envAt, image, main, clone, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

/**
 * One cycle with `method` the only one the repository allows (squash keeps only the PR title and body, so
 * Baton's trailers are lost): pin → promotion PR → policy pending, merge refused → soaked → code owner
 * approves → `baton merge` path → deployed → rollback PR → approved, merged → previous digest → history.
 */
export async function promotionCycle(e: E2E, method: MergeMethod, digest: string): Promise<void> {
  const { github, api, gh, dev } = e;
  github.settings = { ...DEFAULT_SETTINGS, allow_merge_commit: method === "merge", allow_squash_merge: method === "squash", allow_rebase_merge: method === "rebase", squash_merge_commit_title: "PR_TITLE", squash_merge_commit_message: "PR_BODY" };
  const before = await e.image("staging");
  const policyOf = (sha: string | undefined) => github.statuses.filter((s) => s.sha === sha && s.context === "baton/policy").at(-1)?.state;

  // CI pins a new build into testing; the agent applies it and records a GitHub deployment.
  const pinned = await pin({ repo: dev, env: "testing", images: [`web=ghcr.io/acme/web:2.0.0@${digest}`], mode: "commit" });
  await e.envAt("testing", pinned.commit ?? "");
  const testingHealthy = await waitFor(`GitHub deployment success for testing at ${pinned.commit?.slice(0, 7)}`, async () => {
    const success = github.deployments.find((x) => x.environment === "testing" && x.sha === pinned.commit)?.statuses.find((s) => s.state === "success");
    return success ? new Date(success.created_at) : undefined;
  }, 20_000);

  // testing → staging: baton/policy is pending (10m soak); Baton and GitHub both refuse the merge.
  const toStaging = await promote({ repo: dev, from: "testing", to: "staging", github: gh });
  assert.equal(policyOf(toStaging.commit), "pending");
  await assert.rejects(api.mergePull(toStaging.pull?.number ?? 0, { method }), isCode("GITHUB_MERGE_REFUSED", /approving review/));
  await assert.rejects(mergeBatonPull(api, await findMergeTarget(api, "staging")), isCode("MERGE_POLICY_PENDING", /soak needs 10m/));
  assert.equal(github.pull(toStaging.pull?.number ?? 0).state, "open");

  // Soaked: `baton policy` sets success; GitHub still wants a code owner's review.
  const soaked = await runPolicy({ repo: dev, github: api, now: () => new Date(testingHealthy.getTime() + 11 * 60_000) });
  assert.deepEqual(soaked.evaluated.map((x) => [x.pull, x.state]), [[toStaging.pull?.number, "success"]]);
  await assert.rejects(mergeBatonPull(api, await findMergeTarget(api, "staging")), isCode("GITHUB_MERGE_REFUSED", /At least 1 approving review/));
  await github.review(toStaging.pull?.number ?? 0, "alice");
  const merged = await mergeBatonPull(api, await findMergeTarget(api, "staging"));
  assert.equal(merged.method, method);
  const stagingMerge = await e.main();
  assert.equal(stagingMerge, merged.sha);
  await e.envAt("staging", stagingMerge);
  assert.match(await e.image("staging") ?? "", new RegExp(`@${digest}$`));

  // Roll staging back: a rollback PR, approved and merged through GitHub; the previous digest runs again.
  const rb = await rollback({ repo: dev, env: "staging", github: gh });
  assert.deepEqual(rb.rejected.map((r) => r.digest), [digest]);
  await github.review(rb.pull?.number ?? 0, "alice");
  assert.equal((await mergeBatonPull(api, await findMergeTarget(api, `${rb.pull?.number}`))).kind, "rollback");
  await e.envAt("staging", await e.main());
  assert.equal(await e.image("staging"), before);

  // History names both PRs, however they were merged (rebased commits: PR numbers from GitHub).
  const entries = await history(dev, "staging", { limit: 2, github: api });
  assert.deepEqual(entries.map((x) => [x.kind, x.pr, x.changes.map((c) => c.to)]), [
    ["rollback", rb.pull?.number, [before?.split("@")[1]]],
    ["promotion", toStaging.pull?.number, [digest]],
  ]);
  assert.deepEqual((await history(dev, "testing", { limit: 1 })).map((x) => [x.kind, x.commit]), [["pin", pinned.commit]]);
}
