// Progressive delivery on the real control plane (Gateway API CRDs v1.6.3 from the Go module cache):
// a blue-green release on the service router and a 3-step canary with an A/B rule on the gatewayAPI
// router, every step a commit made by baton pin / baton confirm. After every step: Service selectors,
// HTTPRoute weights and header rules, EndpointSlices listing only the right slot's pods, replica counts,
// `baton diff` empty, and every revision in the Environment's history a commit of the folder's git log.
import { test } from "node:test";
import assert from "node:assert/strict";
import { promises as fs } from "node:fs";
import path from "node:path";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { parse } from "yaml";
import { agentFixture, isReady, type AgentFixture } from "../support/agent-fixture.js";
import { digest } from "../support/config-repo.js";
import { waitFor } from "../support/processes.js";
import type { KubeObject } from "../../src/config/objects.js";
import { findEnvironment, loadPipeline } from "../../src/config/pipeline.js";
import { diffEnvironment } from "../../src/cli/diff.js";
import { pin } from "../../src/promote/pin.js";
import { changeRelease } from "../../src/promote/release.js";

const OLD = digest("stable-release");
const NEW = digest("candidate-release");
const SLOT = "baton.dev/slot";

async function installGatewayApi(f: AgentFixture): Promise<void> {
  const dir = path.join(process.env.BATON_TEST_BIN ?? "", "gateway-api-crds");
  const crd = parse(await fs.readFile(path.join(dir, "gateway.networking.k8s.io_httproutes.yaml"), "utf8")) as KubeObject;
  await f.client.apply(crd, { fieldManager: "baton-tests", force: true });
  await waitFor("HTTPRoute CRD established", async () => {
    const live = await f.client.get("apiextensions.k8s.io/v1", "CustomResourceDefinition", undefined, crd.metadata.name);
    return ((live?.status as { conditions?: Array<{ type: string; status: string }> } | undefined)?.conditions ?? []).some((c) => c.type === "Established" && c.status === "True") ? true : undefined;
  }, 30_000);
  await f.client.discover(true);
}

const app = (name: string, replicas: number) => `apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}}
spec:
  replicas: ${replicas}
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec:
      containers:
        - name: ${name}
          image: ghcr.io/acme/${name}@${OLD}
---
apiVersion: v1
kind: Service
metadata: {name: ${name}}
spec:
  selector: {app: ${name}}
  ports: [{port: 80, targetPort: 8080}]
`;

const ROUTE = `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web}
spec:
  parentRefs: [{name: public}]
  rules:
    - matches: [{path: {type: PathPrefix, value: /}}]
      backendRefs: [{name: web, port: 80}]
`;

const pipeline = (namespace: string) => `apiVersion: baton.dev/v1alpha1
kind: Pipeline
environments:
  - name: bluegreen
    path: environments/bluegreen
    namespace: ${namespace}
    allowDirectPush: true
    strategy: {type: blueGreen, router: service, route: shop}
  - name: canary
    path: environments/canary
    namespace: ${namespace}
    allowDirectPush: true
    strategy:
      type: canary
      router: gatewayAPI
      route: web
      steps: [{setWeight: 25}, {setWeight: 50}, {setWeight: 75}]
      abTest: {header: X-Canary, value: always}
`;

interface Rule { matches?: Array<{ headers?: Array<{ type: string; name: string; value: string }> }>; backendRefs: Array<{ name: string; weight?: number }> }

test("blue-green and a 3-step canary with an A/B rule, step by step on the real control plane", async () => {
  const f = await agentFixture("release", { "README.md": "config\n" });
  try {
    await installGatewayApi(f);
    const get = async (kind: string, name: string, apiVersion = kind === "Deployment" ? "apps/v1" : kind === "HTTPRoute" ? "gateway.networking.k8s.io/v1" : "v1") => {
      const o = await f.client.get(apiVersion, kind, f.namespace, name);
      assert.ok(o, `${kind} ${name} exists`);
      return o;
    };
    const spec = async (kind: string, name: string) => (await get(kind, name)).spec as Record<string, unknown>;
    const endpointPods = async (service: string): Promise<string[]> => {
      const slices = await f.client.list("discovery.k8s.io/v1", "EndpointSlice", f.namespace, `kubernetes.io/service-name=${service}`);
      return slices.flatMap((s) => ((s.endpoints ?? []) as Array<{ targetRef?: { name: string }; conditions?: { ready?: boolean } }>)
        .filter((e) => e.conditions?.ready === true).map((e) => e.targetRef?.name ?? "")).sort();
    };
    /** Waits until the Service's EndpointSlices list exactly `count` ready pods, all of `slot` (pods come and go after a flip). */
    const expectEndpoints = async (service: string, prefix: string, count: number) => {
      const pods = await waitFor(`${service} endpoints: ${count} pods of ${prefix}`, async () => {
        const p = await endpointPods(service);
        return p.length === count && p.every((n) => n.startsWith(`${prefix}-`)) ? p : undefined;
      }, 30_000).catch(async (e: unknown) => assert.fail(`${String(e)}; listed: ${(await endpointPods(service)).join(", ")}`));
      assert.equal(pods.length, count);
    };
    const replicas = async (name: string) => {
      const d = await get("Deployment", name);
      return [(d.spec as { replicas: number }).replicas, (d.status as { readyReplicas?: number }).readyReplicas ?? 0];
    };
    const image = async (name: string) => ((await spec("Deployment", name)).template as { spec: { containers: Array<{ image: string }> } }).spec.containers[0]?.image;
    /** The invariants after every step: the agent applied HEAD, nothing to diff, history only holds commits of the folder. */
    const phase = async (envName: string) => (await f.environment(envName))?.status?.release;
    const settled = async (envName: string): Promise<string> => {
      const head = await f.repo.git("rev-parse", "HEAD");
      const env = await f.waitForEnvironment(envName, `Ready at ${head.slice(0, 7)}`, (e) => isReady(e, head), 90_000);
      const p = await loadPipeline(f.repo.dir);
      const diff = (await diffEnvironment(f.repo.dir, p, findEnvironment(p, envName), f.client)).filter((d) => d.action !== "unchanged");
      assert.deepEqual(diff.map((d) => `${d.action} ${d.object}\n${d.patch}`), [], `baton diff ${envName} is empty`);
      const folderLog = new Set((await f.repo.git("log", "--format=%H", "--", `environments/${envName}`)).split("\n"));
      for (const h of env.status?.history ?? []) assert.ok(folderLog.has(h.revision), `history revision ${h.revision} is a commit of environments/${envName}`);
      return head;
    };
    const confirmStep = (env: string) => changeRelease({ repo: f.repo.dir, env, action: "confirm", push: true });

    await f.repo.commit({
      "baton.yaml": pipeline(f.namespace),
      "environments/bluegreen/app.yaml": app("shop", 2),
      "environments/canary/app.yaml": app("web", 4),
      "environments/canary/route.yaml": ROUTE,
    }, "two apps with release strategies");
    for (const name of ["bluegreen", "canary"]) await f.createEnvironment(name, { path: `environments/${name}`, interval: "1s" });
    await f.startAgent();
    await settled("bluegreen");
    await settled("canary");

    // ---- Blue-green on the service router ----
    assert.deepEqual((await spec("Service", "shop")).selector, { app: "shop", [SLOT]: "blue" });
    assert.deepEqual(await replicas("shop-blue"), [2, 2]);
    assert.deepEqual((await replicas("shop-green"))[0], 0);
    await expectEndpoints("shop", "shop-blue", 2);

    // A release starts with the pin commit (release.yaml step 0): the candidate runs at full size at weight 0.
    const pinned = await pin({ repo: f.repo.dir, env: "bluegreen", images: [`shop=ghcr.io/acme/shop@${NEW}`], mode: "commit" });
    assert.equal(pinned.action, "pushed");
    assert.match(await f.repo.git("show", "--stat", "--format=", "HEAD"), /environments\/bluegreen\/release\.yaml/);
    await settled("bluegreen");
    assert.equal(await image("shop-green"), `ghcr.io/acme/shop@${NEW}`);
    assert.equal(await image("shop-blue"), `ghcr.io/acme/shop@${OLD}`);
    assert.deepEqual(await replicas("shop-green"), [2, 2]);
    assert.deepEqual((await spec("Service", "shop")).selector, { app: "shop", [SLOT]: "blue" });
    assert.deepEqual((await spec("Service", "shop-preview")).selector, { app: "shop", [SLOT]: "green" });
    await expectEndpoints("shop", "shop-blue", 2);
    await expectEndpoints("shop-preview", "shop-green", 2);
    assert.deepEqual({ phase: (await phase("bluegreen"))?.phase, weight: (await phase("bluegreen"))?.weight }, { phase: "PendingConfirmation", weight: 0 });
    // kubectl shows the phase as a printer column.
    const { stdout } = await promisify(execFile)("kubectl", ["--kubeconfig", process.env.BATON_TEST_KUBECONFIG ?? "", "get", "environments", "bluegreen", "-n", f.namespace]);
    assert.match(stdout, /^NAME\s+REVISION\s+READY\s+PHASE\s+STATUS\s+AGE\n/);
    assert.match(stdout, /\nbluegreen\s+\w{40}\s+True\s+PendingConfirmation\s+Applied revision/);

    // Confirm: all traffic to green, blue retired (no retireAfter) — one commit.
    const confirmed = await confirmStep("bluegreen");
    assert.equal(confirmed.action, "pushed");
    await settled("bluegreen");
    assert.deepEqual((await spec("Service", "shop")).selector, { app: "shop", [SLOT]: "green" });
    await expectEndpoints("shop", "shop-green", 2);
    await expectEndpoints("shop-preview", "shop-blue", 0);
    assert.equal((await replicas("shop-blue"))[0], 0);
    // The stored status is the computed one: the finished step and candidate are gone, not merged over.
    assert.deepEqual(await phase("bluegreen").then((r) => [r?.phase, r?.step, r?.candidateImages, r?.stableSlot]), ["Confirmed", undefined, undefined, "green"]);

    // The strategy removed from baton.yaml (and release.yaml with it): one Deployment again, no release status.
    await f.repo.commit({ "baton.yaml": pipeline(f.namespace).replace("    strategy: {type: blueGreen, router: service, route: shop}\n", ""), "environments/bluegreen/release.yaml": null }, "bluegreen without a strategy");
    await settled("bluegreen");
    assert.equal((await f.environment("bluegreen"))?.status?.release, undefined);
    assert.equal(await image("shop"), `ghcr.io/acme/shop@${NEW}`);
    await waitFor("the slots are pruned", async () => ((await f.client.get("apps/v1", "Deployment", f.namespace, "shop-green")) ? undefined : true), 30_000);

    // ---- Canary with an A/B rule on the gatewayAPI router ----
    // The test plays the Gateway controller: status.parents belongs to it, and Baton's applies keep it.
    await f.client.mergePatch("gateway.networking.k8s.io/v1", "HTTPRoute", f.namespace, "web", {
      status: { parents: [{ parentRef: { name: "public" }, controllerName: "example.com/test-gateway", conditions: [{ type: "Accepted", status: "True", reason: "Accepted", message: "", lastTransitionTime: new Date().toISOString() }] }] },
    }, "status");
    await pin({ repo: f.repo.dir, env: "canary", images: [`web=ghcr.io/acme/web@${NEW}`], mode: "commit" });
    const rules = async () => (await spec("HTTPRoute", "web")).rules as Rule[];
    const weights = async () => (await rules()).filter((r) => !r.matches?.some((m) => m.headers?.length)).map((r) => r.backendRefs.map((b) => `${b.name}=${b.weight}`).join(" "));
    for (const [step, weight, candidates] of [[0, 25, 1], [1, 50, 2], [2, 75, 3]] as const) {
      if (step > 0) await confirmStep("canary");
      await settled("canary");
      assert.deepEqual(await weights(), [`web-blue=${100 - weight} web-green=${weight}`], `step ${step}`);
      assert.deepEqual([(await phase("canary"))?.phase, (await phase("canary"))?.weight, (await phase("canary"))?.step], ["Progressing", weight, step + 1]);
      const ab = (await rules()).filter((r) => r.matches?.some((m) => m.headers?.length));
      assert.deepEqual(ab.map((r) => ({ headers: r.matches?.[0]?.headers, to: r.backendRefs.map((b) => b.name) })), [{ headers: [{ type: "Exact", name: "X-Canary", value: "always" }], to: ["web-green"] }]);
      assert.deepEqual(await replicas("web-green"), [candidates, candidates]);
      assert.deepEqual(await replicas("web-blue"), [4, 4]);
      await expectEndpoints("web-green", "web-green", candidates);
      await expectEndpoints("web-blue", "web-blue", 4);
      await expectEndpoints("web", "web-blue", 4);
    }
    // The last confirm completes: green is stable with all the weight, no A/B rule, blue at zero.
    await confirmStep("canary");
    await settled("canary");
    assert.deepEqual(await weights(), ["web-green=100 web-blue=0"]);
    assert.equal((await rules()).length, 1);
    assert.equal((await replicas("web-blue"))[0], 0);
    await expectEndpoints("web", "web-green", 4);
    await expectEndpoints("web-blue", "web-blue", 0);
    const status = (await get("HTTPRoute", "web")).status as { parents?: Array<{ controllerName: string }> };
    assert.equal(status.parents?.[0]?.controllerName, "example.com/test-gateway");
    // Every step was a commit: the folder's log holds pin, 3 confirms, and the initial commit.
    assert.equal((await f.repo.git("log", "--format=%H", "--", "environments/canary")).split("\n").length, 5);
  } finally {
    await f.cleanup();
  }
});
