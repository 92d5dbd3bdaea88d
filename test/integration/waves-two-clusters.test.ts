// Waves across two clusters: the shared control plane is prod-eu's cluster (A), a second control plane
// (etcd + kube-apiserver only) is prod-us's (B), one agent each, one config repo, the GitHub stand-in. Each
// agent reports only its own target as GitHub Deployments; promote reads them, never the clusters.
// test-lane: shares-cluster
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { loadKubeConfig } from "../../src/kube/kubeconfig.js";
import { startCluster, type Cluster } from "../support/cluster.js";
import { agentFixture, isReady, type AgentFixture } from "../support/agent-fixture.js";
import { GitHubDouble } from "../support/github-double.js";
import { cloneConfigRepo } from "../support/example-repo.js";
import { promote } from "../../src/promote/promote.js";
import { BatonError } from "../../src/errors.js";
import { connectGitHub } from "../../src/github/connect.js";

const D0 = `sha256:${"0".repeat(64)}`;
const D1 = `sha256:${"1".repeat(64)}`;

/** A ConfigMap and a suspended CronJob (no Pods: cluster B has no controllers), image pinned by digest. */
const target = (folder: string, digest: string): Record<string, string> => ({
  [`${folder}/config.yaml`]: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web-config\ndata:\n  MODE: prod\n",
  [`${folder}/job.yaml`]: `apiVersion: batch/v1
kind: CronJob
metadata:
  name: web
spec:
  schedule: "0 0 1 1 *"
  suspend: true
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers:
            - name: web
              image: ghcr.io/acme/web@${digest}
`,
});

const BATON_YAML = `apiVersion: baton.dev/v1alpha1
kind: Pipeline
environments:
  - name: staging
    path: environments/staging
  - name: production
    promoteFrom: staging
    targets:
      - {name: prod-eu, path: environments/prod-eu, wave: 1}
      - {name: prod-us, path: environments/prod-us, wave: 2}
`;

let clusterB: Cluster;
let a: AgentFixture;
let b: AgentFixture;
let github: GitHubDouble;

before(async () => {
  clusterB = await startCluster(process.env.BATON_TEST_BIN ?? "", { controlPlaneOnly: true });
  const kcB = loadKubeConfig(clusterB.kubeconfig);
  github = await GitHubDouble.start();
  a = await agentFixture("wave-a", { "baton.yaml": BATON_YAML, ...target("environments/staging", D1), ...target("environments/prod-eu", D0), ...target("environments/prod-us", D0) });
  // B's fixture brings its own (unused) git server: its Environment follows A's config repo.
  b = await agentFixture("wave-b", { "unused.txt": "B follows the config repo of A\n" }, { kubeConfig: kcB });
  github.addRepo("acme/config", path.join(a.server.root, "config.git"));
});
after(async () => {
  assert.deepEqual(github.violations, []);
  await a?.cleanup();
  await b?.cleanup();
  await github?.stop();
  await clusterB?.stop();
});

const image = async (f: AgentFixture) => {
  const job = await f.client.get("batch/v1", "CronJob", f.namespace, "web");
  return (job?.spec as { jobTemplate: { spec: { template: { spec: { containers: Array<{ image: string }> } } } } } | undefined)?.jobTemplate.spec.template.spec.containers[0]?.image;
};

test("wave 1 applies on cluster A; wave 2 waits for A's deployment to succeed, then applies on cluster B", async () => {
  for (const [f, name] of [[a, "prod-eu"], [b, "prod-us"]] as const) {
    await f.client.create({ apiVersion: "v1", kind: "Secret", metadata: { name: "creds", namespace: f.namespace }, stringData: { githubToken: github.token } });
    await f.createEnvironment(name, { url: a.repo.url, path: `environments/${name}`, interval: "1s", secretRef: { name: "creds" }, github: { repository: "acme/config", apiUrl: github.baseUrl } });
    await f.startAgent();
  }
  const initial = await a.repo.git("rev-parse", "HEAD");
  await a.waitForEnvironment("prod-eu", "Ready", (e) => isReady(e, initial));
  await b.waitForEnvironment("prod-us", "Ready", (e) => isReady(e, initial));

  const dev = await cloneConfigRepo(a.server, "config", "Dev");
  // The fixture's git server names the repository "config"; GitHub calls it acme/config.
  const api = connectGitHub({ url: github.baseUrl, repo: "acme/config", env: { GITHUB_TOKEN: github.token, BATON_GITHUB_WRITE_INTERVAL_MS: "0" } });
  const connect = () => api;

  const wave1 = await promote({ repo: dev, from: "staging", to: "production", github: connect });
  assert.deepEqual([wave1.action, wave1.wave?.number], ["opened", 1]);
  // prod-eu's agent is stopped while wave 1 merges: its deployment of the merge cannot exist yet.
  await a.agent?.stop();
  const merged = await api.mergePull(wave1.pull?.number as number, { method: "merge" });
  await assert.rejects(promote({ repo: dev, from: "staging", to: "production", github: connect }), (e: unknown) => e instanceof BatonError && e.code === "PROMOTE_WAVE_NOT_READY" && /prod-eu has no successful deployment/.test(e.message));

  await a.startAgent();
  await a.waitForEnvironment("prod-eu", "Ready at the merge", (e) => isReady(e, merged.sha));
  assert.equal(await image(a), `ghcr.io/acme/web@${D1}`);
  assert.equal(await image(b), `ghcr.io/acme/web@${D0}`);

  const wave2 = await promote({ repo: dev, from: "staging", to: "production", github: connect });
  assert.deepEqual([wave2.action, wave2.wave?.number, wave2.wave?.targets], ["opened", 2, ["prod-us"]]);
  const merged2 = await api.mergePull(wave2.pull?.number as number, { method: "merge" });
  await b.waitForEnvironment("prod-us", "Ready at the wave-2 merge", (e) => isReady(e, merged2.sha));
  assert.equal(await image(b), `ghcr.io/acme/web@${D1}`);
  // Each agent reported only its own target.
  assert.deepEqual([...new Set(github.deployments.map((d) => d.environment))].sort(), ["prod-eu", "prod-us"]);
});
