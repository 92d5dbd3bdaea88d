import { test } from "node:test";
import assert from "node:assert/strict";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import net from "node:net";
import { readClusters, type ClusterReader } from "../../src/promote/cluster-status.js";
import { openClusterReaders } from "../../src/cli/clusters.js";
import { BatonError } from "../../src/errors.js";

const reader = (name: string, list: ClusterReader["list"]): ClusterReader => ({ name, list, close: () => undefined });

test("one cluster that cannot be read is named with its error; the others' Environments still count", async () => {
  const read = await readClusters([
    reader("prod-eu", async () => [{ path: "environments/prod-eu", ready: "True", revision: "abc" }]),
    reader("prod-us", async () => { throw new Error("request to https://admin:hunter2@10.0.0.9:6443/apis/baton.dev/v1alpha1/environments failed: connect ECONNREFUSED 10.0.0.9:6443\nstack…"); }),
  ]);
  assert.deepEqual(read.environments, [{ path: "environments/prod-eu", ready: "True", revision: "abc" }]);
  assert.equal(read.clusters[0]?.error, undefined);
  assert.equal(read.clusters[1]?.name, "prod-us");
  assert.match(read.clusters[1]?.error ?? "", /^cannot read its Environments: request to https:\/\/redacted@10\.0\.0\.9:6443\/apis\/.* connect ECONNREFUSED 10\.0\.0\.9:6443$/);
  assert.ok(!read.clusters[1]?.error?.includes("hunter2"));
});

test("clusters from flags: one per --kubeconfig at its current context (same names told apart by file), or one per --context of one kubeconfig", async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "baton-clusters-"));
  const kubeconfig = async (file: string, current: string) => {
    const full = path.join(dir, file);
    await fs.writeFile(full, `apiVersion: v1\nkind: Config\ncurrent-context: ${current}\nclusters: [{name: a, cluster: {server: "https://127.0.0.1:1"}}, {name: b, cluster: {server: "https://127.0.0.1:2"}}]\n`
      + "contexts: [{name: prod-eu, context: {cluster: a}}, {name: prod-us, context: {cluster: b}}]\n");
    return full;
  };
  const eu = await kubeconfig("eu.yaml", "prod-eu");
  const again = await kubeconfig("also-eu.yaml", "prod-eu");
  const names = async (flags: Parameters<typeof openClusterReaders>[0]) => {
    const readers = await openClusterReaders(flags);
    readers.forEach((r) => r.close());
    return readers.map((r) => r.name);
  };
  assert.deepEqual(await names({}), [], "no cluster asked for");
  assert.deepEqual(await names({ kubeconfig: [eu] }), ["prod-eu"]);
  assert.deepEqual(await names({ kubeconfig: [eu, again] }), ["prod-eu (eu.yaml)", "prod-eu (also-eu.yaml)"]);
  assert.deepEqual(await names({ kubeconfig: [eu], context: "prod-eu, prod-us" }), ["prod-eu", "prod-us"]);
  await assert.rejects(openClusterReaders({ kubeconfig: [eu, again], context: "prod-us" }), (e: unknown) => e instanceof BatonError && e.code === "USAGE" && e.field === "--context");
  await assert.rejects(openClusterReaders({ kubeconfig: [eu], context: "prod-ap" }), (e: unknown) => e instanceof BatonError && e.code === "KUBECONFIG_INVALID" && /no context "prod-ap"/.test(e.message));
});

test("a cluster that accepts the connection but never answers is named with the deadline, and the reachable one still counts", async () => {
  // A blackholed API server: the TCP connection opens, no byte comes back.
  const sockets: net.Socket[] = [];
  const silent = net.createServer((socket) => { sockets.push(socket); });
  await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "baton-silent-"));
  const file = path.join(dir, "kubeconfig");
  await fs.writeFile(file, `apiVersion: v1\nkind: Config\ncurrent-context: silent\nclusters: [{name: s, cluster: {server: "http://127.0.0.1:${(silent.address() as net.AddressInfo).port}"}}]\n`
    + "contexts: [{name: silent, context: {cluster: s}}]\n");
  const [reader] = await openClusterReaders({ kubeconfig: [file], requestTimeoutMs: 300 });
  try {
    const read = await readClusters([reader as ClusterReader, { name: "prod-eu", list: async () => [{ path: "environments/prod-eu", ready: "True" }], close: () => undefined }]);
    assert.match(read.clusters[0]?.error ?? "", /^cannot read its Environments: GET \/\S+: no answer within 300 ms$/);
    assert.deepEqual(read.environments, [{ path: "environments/prod-eu", ready: "True" }]);
  } finally {
    reader?.close();
    sockets.forEach((s) => s.destroy());
    silent.close();
  }
});
