// Finding which of a new Environment's objects already exist (under any owner): one small LIST when the
// namespace holds few objects, one GET per object when it holds many, so the cost of a first apply does
// not grow with everything else in the namespace.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ResourceManager } from "../../src/kube/manager.js";
import type { KubeClient } from "../../src/kube/client.js";
import type { KubeObject, ObjectId } from "../../src/config/objects.js";

const id = (name: string): ObjectId => ({ group: "", version: "v1", kind: "ConfigMap", namespace: "ns", name });
const object = (name: string): KubeObject => ({ apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace: "ns" } });

/** A namespace of `names`, answering metadata pages and GETs as the API server would; records the requests. */
function namespaceOf(names: string[]) {
  const requests: string[] = [];
  const client = {
    listMetadataPage: async (_v: string, _k: string, _ns: string, limit: number) => {
      requests.push(`LIST limit=${limit}`);
      return { items: names.slice(0, limit).map(object), complete: names.length <= limit };
    },
    getMetadata: async (_v: string, _k: string, _ns: string, name: string) => {
      requests.push(`GET ${name}`);
      return names.includes(name) ? object(name) : undefined;
    },
  } as unknown as KubeClient;
  return { client, requests };
}

test("few objects in the namespace: one LIST answers for all the ids", async () => {
  const { client, requests } = namespaceOf(["taken", "other"]);
  const found = await new ResourceManager(client).findMetadata([id("taken"), id("new")]);
  assert.deepEqual(requests, ["LIST limit=50"]);
  assert.ok(found.some((o) => o.metadata.name === "taken"));
});

test("many objects in the namespace: after one page, each id is read by itself", async () => {
  const crowd = Array.from({ length: 4000 }, (_, i) => `cm-${i}`);
  const { client, requests } = namespaceOf([...crowd, "taken"]);
  const found = await new ResourceManager(client).findMetadata([id("taken"), id("new")]);
  assert.deepEqual(requests.sort(), ["GET new", "GET taken", "LIST limit=50"]);
  assert.deepEqual(found.map((o) => o.metadata.name), ["taken"]);
  // The page grows with the ids asked about: 100 new objects in a namespace of 150 cost one LIST.
  const hundred = Array.from({ length: 100 }, (_, i) => id(`new-${i}`));
  const medium = namespaceOf(crowd.slice(0, 150));
  await new ResourceManager(medium.client).findMetadata(hundred);
  assert.deepEqual(medium.requests, ["LIST limit=200"]);
});
