// An interval run of an unchanged revision reuses its Environment's last render; a new revision, another
// spec or a reloaded API discovery renders the folder again.
import { test } from "node:test";
import assert from "node:assert/strict";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { RenderCache, renderStep } from "../../src/agent/steps/render.js";
import type { StepContext } from "../../src/agent/steps/context.js";
import { EnvironmentSpecSchema } from "../../src/agent/environment.js";
import type { KubeClient } from "../../src/kube/client.js";
import { silentLogger } from "../../src/log.js";

test("a render is reused while revision, spec and discovery stay, and redone when any of them changes", async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "baton-render-cache-"));
  try {
    const write = (data: string) => fs.mkdir(path.join(dir, "env"), { recursive: true }).then(() => fs.writeFile(path.join(dir, "env/cm.yaml"), `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\ndata: {v: "${data}"}\n`));
    await write("1");
    const discovery = { generation: 1 };
    const agent = { discover: async () => undefined, isClusterScoped: () => false, get discoveryGeneration() {
      return discovery.generation;
    } } as unknown as KubeClient;
    const renders = new RenderCache();
    const spec = EnvironmentSpecSchema.parse({ url: "https://git.example.com/config.git", path: "env", targetNamespace: "ns" });
    const ctx = (overrides: Partial<StepContext> = {}) => ({ spec, owner: { namespace: "ns", name: "web" }, agent, previous: [], noCrossNamespaceObjects: false, log: silentLogger, renders, ...overrides }) as unknown as StepContext;
    const value = async (c: StepContext, revision: string) => (await renderStep(c, { revision, dir, credentials: {} })).render.objects[0]?.object.data;

    assert.deepEqual(await value(ctx(), "r1"), { v: "1" });
    await write("2"); // a checkout never changes; this shows which runs read the folder again
    assert.deepEqual(await value(ctx(), "r1"), { v: "1" }, "same revision, spec and discovery: the last render");
    assert.deepEqual(await value(ctx(), "r2"), { v: "2" }, "a new revision is rendered");
    await write("3");
    assert.deepEqual(await value(ctx({ spec: { ...spec, prune: false } }), "r2"), { v: "3" }, "a spec change renders again");
    await write("4");
    discovery.generation++;
    assert.deepEqual(await value(ctx({ spec: { ...spec, prune: false } }), "r2"), { v: "4" }, "a reloaded discovery (a new CRD may change a kind's scope) renders again");
    await write("5");
    assert.deepEqual(await value(ctx({ renders: undefined }), "r2"), { v: "5" }, "without a cache every run renders");
    // Each Environment has its own slot: another one of the same folder does not take web's render.
    await write("6");
    assert.deepEqual(await value(ctx({ owner: { namespace: "ns", name: "api" } }), "r2"), { v: "6" });
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});
