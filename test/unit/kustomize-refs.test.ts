import { test } from "node:test";
import assert from "node:assert/strict";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { isRemoteReference, kustomizationRefs, pluginConfigRefs } from "../../src/config/kustomize-refs.js";
import { checkKustomizationTree, kustomizeEnv } from "../../src/config/kustomize.js";

test("every file-naming field of a kustomization is listed, with its field path", () => {
  const { refs, unsupported } = kustomizationRefs({
    resources: ["a.yaml", "../base"], bases: ["b"], components: ["c"], crds: ["crd.json"], configurations: ["conf.yaml"],
    patchesStrategicMerge: ["psm.yaml", "apiVersion: v1\nkind: ConfigMap\n"], patches: [{ path: "p.yaml" }, { patch: "inline" }],
    patchesJson6902: [{ path: "j.json" }], replacements: [{ path: "r.yaml" }, { source: {} }],
    transformers: ["t.yaml", "apiVersion: builtin\nkind: LabelTransformer\n"], generators: ["g.yaml"], validators: ["v.yaml"],
    configMapGenerator: [{ name: "x", files: ["f.txt", "key=k.txt"], envs: ["e.env"], literals: ["a=b"] }],
    secretGenerator: [{ name: "s", env: "s.env" }], openapi: { path: "schema.json" },
  });
  assert.deepEqual(unsupported, []);
  assert.deepEqual(refs.map((r) => `${r.field}=${r.value}`), [
    "resources[0]=a.yaml", "resources[1]=../base", "bases[0]=b", "components[0]=c", "crds[0]=crd.json", "configurations[0]=conf.yaml",
    "patchesStrategicMerge[0]=psm.yaml", "transformers[0]=t.yaml", "generators[0]=g.yaml", "validators[0]=v.yaml",
    "patches[0].path=p.yaml", "patchesJson6902[0].path=j.json", "replacements[0].path=r.yaml",
    "configMapGenerator[0].files[0]=f.txt", "configMapGenerator[0].files[1]=k.txt", "configMapGenerator[0].envs[0]=e.env",
    "secretGenerator[0].env=s.env", "openapi.path=schema.json",
  ]);
});

test("helm fields are unsupported; builtin plugin configs name their files", () => {
  assert.deepEqual(kustomizationRefs({ helmCharts: [{ name: "x" }] }).unsupported.map((u) => u.field), ["helmCharts"]);
  const { refs, unsupported } = pluginConfigRefs({ kind: "PatchStrategicMergeTransformer", paths: ["a.yaml"], path: "b.yaml", files: ["k=c.txt"], replacements: [{ path: "d.yaml" }] });
  assert.deepEqual(unsupported, []);
  assert.deepEqual(refs.map((r) => `${r.field}=${r.value}`), ["paths[0]=a.yaml", "path=b.yaml", "files[0]=c.txt", "replacements[0].path=d.yaml"]);
  assert.deepEqual(pluginConfigRefs({ kind: "HelmChartInflationGenerator", chartHome: "x" }).unsupported.map((u) => u.field), ["kind", "chartHome"]);
});

test("remote references are recognised in every spelling kustomize accepts", () => {
  for (const s of ["https://x/y", "http://127.0.0.1:1/a", "git::https://x/r.git", "s3::https://b/k", "git@github.com:a/b.git", "github.com/a/b?ref=v1", "ssh://git@x/r", "file:///etc/passwd"]) {
    assert.equal(isRemoteReference(s), true, s);
  }
  for (const s of ["app.yaml", "../base", "dir/with:colon.yaml", "key=file.txt"]) assert.equal(isRemoteReference(s), false, s);
});

test("a local tree with generator configs, inline patches and key=path files passes the check", async () => {
  const repo = await fs.mkdtemp(path.join(os.tmpdir(), "baton-krefs-"));
  const write = async (rel: string, text: string) => {
    await fs.mkdir(path.dirname(path.join(repo, rel)), { recursive: true });
    await fs.writeFile(path.join(repo, rel), text);
  };
  await write("base/kustomization.yaml", "resources: [app.yaml]\n");
  await write("base/app.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n");
  await write("env/kustomization.yaml", [
    "resources: [../base]", "generators: [gen.yaml]", "transformers:", "  - |", "    apiVersion: builtin", "    kind: LabelTransformer", "    metadata: {name: l}",
    "    labels: {a: b}", "    fieldSpecs: [{path: metadata/labels, create: true}]",
    "patchesStrategicMerge:", "  - |-", "    apiVersion: v1", "    kind: ConfigMap", "    metadata: {name: a}",
    "configMapGenerator: [{name: c, files: [conf=conf.txt]}]", "",
  ].join("\n"));
  await write("env/gen.yaml", "apiVersion: builtin\nkind: ConfigMapGenerator\nmetadata: {name: g}\nfiles: [conf.txt]\n");
  await write("env/conf.txt", "x=1\n");
  await checkKustomizationTree(repo, path.join(repo, "env/kustomization.yaml"));
});

test("kustomize runs without the agent's environment and with every proxy variable at a dead address", () => {
  const env = kustomizeEnv();
  assert.equal(env.GITHUB_TOKEN, undefined);
  for (const k of ["HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"]) assert.match(env[k] ?? "", /^http:\/\/127\.0\.0\.1:/);
  assert.equal(env.NO_PROXY, "");
  assert.equal(env.PATH, "/nonexistent");
});
