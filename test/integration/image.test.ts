// The container image, run for real with podman: the CLI inside it (version, validate, render with the
// image's own kustomize), and the agent run the way the Helm chart's pod runs it — uid 10001, read-only root
// filesystem, every capability dropped, emptyDirs for the cache and /tmp, no kubeconfig but a ServiceAccount
// token from the TokenRequest API with the CA and namespace at the in-cluster path, and only the chart's RBAC.
// It reconciles a kustomize Environment to Ready; SIGTERM stops it with exit code 0 and the Lease released.
import { before, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { promises as fs, readFileSync } from "node:fs";
import os from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import path from "node:path";
import { ENV_API_VERSION, ENV_KIND, type EnvironmentObject } from "../../src/agent/environment.js";
import { findEnvironment, loadPipeline } from "../../src/config/pipeline.js";
import { renderEnvironment } from "../../src/config/render.js";
import { KubeClient } from "../../src/kube/client.js";
import { helmTemplate } from "../support/chart.js";
import { ConfigRepo } from "../support/config-repo.js";
import { GitServer } from "../support/git-server.js";
import { podman, podmanRunFor, testImage, type PodSpec } from "../support/image.js";
import { freePort, waitFor } from "../support/processes.js";
import { testCluster, testKubeConfig } from "../support/testenv.js";

const fixture = path.resolve(import.meta.dirname, "../fixtures/kustomize");
const version = (JSON.parse(readFileSync(path.resolve(import.meta.dirname, "../../package.json"), "utf8")) as { version: string }).version;
const serviceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount";

/** A one-off container as uid 10001 on a read-only root, with the kustomize fixture mounted read-only at /repo. */
async function run(image: string, entrypoint: "baton" | "sh", ...args: string[]): Promise<string> {
  return podman("run", "--rm", "--pull", "never", "--network", "none", "--user", "10001:10001", "--read-only", "--cap-drop", "ALL",
    "--security-opt", "no-new-privileges", "--volume", `${fixture}:/repo:ro`, "--entrypoint", entrypoint, image, ...args);
}
const cli = (image: string, ...args: string[]) => run(image, "baton", ...args);
const shell = (image: string, script: string) => run(image, "sh", "-c", script);

// test/run.ts builds the image in the background while the other files run (this one runs last): a build
// from cold Debian bases takes far longer than one test may, so the wait has its own bound.
let image = "";
before(async () => {
  image = await testImage();
}, { timeout: 45 * 60_000 });

interface ImageConfig { Size: number; RootFS: { Layers: string[] }; Config: { User: string; Entrypoint: string[]; Cmd: string[] } }

test("the image holds the CLI: --version, validate and render a kustomize environment as uid 10001 on a read-only root", async (t) => {
  const [inspected] = JSON.parse(await podman("image", "inspect", image)) as ImageConfig[];
  assert.ok(inspected);
  assert.equal(inspected.Config.User, "10001:10001", "numeric non-root user, so runAsNonRoot can verify it");
  assert.deepEqual(inspected.Config.Entrypoint, ["baton"]);
  assert.deepEqual(inspected.Config.Cmd, ["agent"]);
  t.diagnostic(`image ${image}: ${(inspected.Size / 1e6).toFixed(0)} MB, ${inspected.RootFS.Layers.length} layers`);

  // Four independent containers, started together (each spends most of its time loading Node modules).
  const [printed, inside, validated, rendered, expected] = await Promise.all([
    cli(image, "--version"),
    // What is inside, and what is not: no package manager, compiler, Go toolchain or dev dependency.
    shell(image, "exec 2>&1; node --version; git --version; kustomize version; helm version --short; ls /app; "
      + "for t in npm npx tsc go; do command -v $t; done; ls -d /app/node_modules/typescript /app/node_modules/eslint /app/node_modules/tsx 2>/dev/null; true"),
    cli(image, "validate", "--repo", "/repo"),
    cli(image, "render", "staging", "--repo", "/repo", "--output", "json").then((out) => JSON.parse(out) as unknown[]),
    loadPipeline(fixture).then((pipeline) => renderEnvironment(fixture, findEnvironment(pipeline, "staging"))),
  ]);
  assert.equal(printed.trim(), version);
  t.diagnostic(inside.trim().replace(/\n/g, " | "));
  assert.match(inside.trim(), /^v2\d\.\d+\.\d+\ngit version \S+\nv5\.\d+\.\d+\nv3\.\d+\S*\ndist\nnode_modules\npackage\.json$/, "node, git, kustomize, helm and the app, nothing else listed");
  assert.match(validated, /^staging\s+3\s+kustomize\s/m);
  assert.match(validated, /^production\s+3\s+kustomize\s/m);
  assert.match(validated, /config repo is valid/);
  assert.deepEqual(rendered, expected.objects.map((o) => o.object), "the image's kustomize renders what the host's does");
});

test("the image runs the agent as the chart's pod: in-cluster token, chart RBAC, Ready; SIGTERM exits 0 and releases the Lease", async (t) => {
  const admin = new KubeClient(testKubeConfig());
  const suffix = randomBytes(3).toString("hex");
  const [system, team] = [`baton-img-${suffix}`, `team-img-${suffix}`];
  for (const ns of [system, team]) await admin.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: ns } });
  const server = await GitServer.create();
  // The kustomize fixture, aimed at this test's namespace: the agent renders it with the image's kustomize.
  const files: Record<string, string> = {};
  for (const file of ["baton.yaml", "base/kustomization.yaml", "base/deployment.yaml", "base/service.yaml", "environments/staging/kustomization.yaml"]) {
    files[file] = (await fs.readFile(path.join(fixture, file), "utf8")).replace("namespace: web-staging", `namespace: ${team}`);
  }
  const repo = await ConfigRepo.create(server, "config", files);
  const secrets = await fs.mkdtemp(path.join(os.tmpdir(), "baton-sa-"));
  const container = `baton-agent-${suffix}`;
  try {
    // The chart as `helm install --set image.repository=… --set image.tag=…` would create it, applied as admin.
    const [repository, tag] = [image.slice(0, image.lastIndexOf(":")), image.slice(image.lastIndexOf(":") + 1)];
    const objects = await helmTemplate(system, { replicaCount: 1, image: { repository, tag, pullPolicy: "Never" }, rbac: { mode: "namespaced", namespaces: [team] } });
    for (const obj of objects) await admin.apply(obj, { fieldManager: "helm-test", force: true });
    await admin.discover(true);
    const deployment = objects.find((o) => o.kind === "Deployment") as unknown as { spec: { template: { spec: PodSpec & { serviceAccountName: string; containers: Array<{ image: string }> } } } };
    const pod = deployment.spec.template.spec;
    assert.equal(pod.containers[0]?.image, image, "the chart's Deployment names the image built here");

    // What the kubelet mounts for the pod's ServiceAccount: a bound token, the cluster CA and the namespace.
    const tokenRequest = await admin.request<{ status: { token: string } }>("POST", `/api/v1/namespaces/${system}/serviceaccounts/${pod.serviceAccountName}/token`,
      { apiVersion: "authentication.k8s.io/v1", kind: "TokenRequest", spec: { expirationSeconds: 3600 } });
    const token = tokenRequest.status.token;
    const cluster = testCluster();
    assert.ok(cluster.tls.caFile);
    await fs.writeFile(path.join(secrets, "token"), token);
    await fs.copyFile(cluster.tls.caFile, path.join(secrets, "ca.crt"));
    await fs.writeFile(path.join(secrets, "namespace"), system);
    await fs.chmod(secrets, 0o755);
    for (const f of ["token", "ca.crt", "namespace"]) await fs.chmod(path.join(secrets, f), 0o644);

    const apiServer = new URL(cluster.server);
    const port = await freePort();
    const run = podmanRunFor(pod, "agent", {
      env: { KUBERNETES_SERVICE_HOST: apiServer.hostname, KUBERNETES_SERVICE_PORT: apiServer.port, POD_NAME: container, POD_NAMESPACE: system },
      mounts: [`${secrets}:${serviceAccountDir}:ro`],
    });
    // Host networking shares ports with everything else on this machine: the chart's fixed 8080 becomes a free
    // port. The test git server speaks plain http on loopback, which the agent refuses unless told.
    const args = [...run.args.map((a) => (a.startsWith("--port=") ? `--port=${port}` : a)), "--allow-insecure-http"];
    assert.ok(args.includes(`--port=${port}`) && args.includes("--cache-dir=/cache"), `chart args: ${run.args.join(" ")}`);
    assert.ok(run.flags.includes("--read-only") && run.flags.join(" ").includes("--cap-drop ALL") && run.flags.includes("10001:10001"), `podman flags: ${run.flags.join(" ")}`);

    await admin.create({ apiVersion: ENV_API_VERSION, kind: ENV_KIND, metadata: { name: "staging", namespace: team }, spec: { url: repo.url, path: "environments/staging", interval: "1h", timeout: "60s" } });
    const started = Date.now();
    await podman("run", "--detach", "--name", container, ...run.flags, image, ...args);
    const exited = podman("wait", container).then((out) => Number(out.trim()));
    // A container that dies early fails the test at once, with its logs.
    const crashed = exited.then(async (code): Promise<never> => {
      throw new Error(`the agent container exited with ${code} before it was stopped:\n${await podman("logs", container)}`);
    });
    crashed.catch(() => undefined);

    // The kubelet's probes, then the first reconcile.
    const ready = await Promise.race([crashed, (async () => {
      for (const probe of ["/healthz", "/readyz"]) {
        await waitFor(`agent ${probe}`, async () => ((await fetch(`http://127.0.0.1:${port}${probe}`)).ok ? true : undefined), 60_000);
      }
      return waitFor("Environment Ready, reconciled by the image", async () => {
        const env = (await admin.get(ENV_API_VERSION, ENV_KIND, team, "staging")) as EnvironmentObject | undefined;
        const cond = env?.status?.conditions?.find((c) => c.type === "Ready");
        if (cond?.status === "True") return env;
        throw new Error(`Ready is ${cond ? `${cond.status} (${cond.reason}: ${cond.message})` : "not reported"}`); // shown if it times out
      }, 120_000, 100);
    })()]);
    t.diagnostic(`cold start to first reconcile (podman run → Environment Ready): ${((Date.now() - started) / 1000).toFixed(1)} s`);
    assert.equal(ready.status?.lastAppliedRevision, await repo.git("rev-parse", "HEAD"));
    const kinds = (ready.status?.inventory?.entries ?? []).map((e) => e.id.split("_").pop()).sort();
    assert.deepEqual(kinds, ["ConfigMap", "Deployment", "Service"], "the kustomize overlay, rendered inside the image");
    assert.ok(await admin.get("apps/v1", "Deployment", team, "web"));

    const leaseName = args.find((a) => a.startsWith("--lease-name="))?.slice("--lease-name=".length) ?? "";
    const lease = () => admin.get("coordination.k8s.io/v1", "Lease", system, leaseName) as Promise<{ spec?: { holderIdentity?: string } } | undefined>;
    assert.equal((await lease())?.spec?.holderIdentity, container);

    // SIGTERM, as the kubelet sends it on pod deletion: a clean exit within the grace period, the Lease handed back.
    await podman("kill", "--signal", "TERM", container);
    const gracePeriod = sleep(30_000, undefined, { ref: false }).then((): never => {
      throw new Error("the agent did not exit within the pod's 30 s termination grace period after SIGTERM");
    });
    assert.equal(await Promise.race([exited, gracePeriod]), 0);
    assert.ok(!(await lease())?.spec?.holderIdentity, "the Lease is released, so a standby takes over at once");

    const logs = await podman("logs", container);
    assert.match(logs, /"msg":"baton agent started"/);
    assert.match(logs, /"msg":"baton agent stopped"/);
    assert.ok(!logs.includes(token), "the ServiceAccount token never reaches the logs");
  } finally {
    await podman("rm", "--force", "--ignore", container).catch(() => undefined);
    await server.destroy();
    await repo.destroy();
    await fs.rm(secrets, { recursive: true, force: true });
    for (const ns of [system, team]) await admin.delete({ group: "", version: "v1", kind: "Namespace", name: ns }).catch(() => undefined);
    admin.close();
  }
});
