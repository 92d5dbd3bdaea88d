/**
 * The floor of `npm run bench apply`: the same server-side applies sent as raw HTTP PATCH requests
 * (application/apply-patch+yaml), N in flight at once over one keep-alive connection pool, with no client
 * logic at all — no discovery, no reads, no plan, no inventory, the URL of each kind written out by hand.
 * Whatever Baton spends above this is its own.
 */
import { promises as fs } from "node:fs";
import https from "node:https";
import path from "node:path";
import type { ClusterCredentials } from "../src/kube/credentials.js";
import { parseAllDocuments } from "yaml";

const RESOURCES: Record<string, string> = {
  "apps/v1/Deployment": "/apis/apps/v1/namespaces/{ns}/deployments",
  "v1/Service": "/api/v1/namespaces/{ns}/services",
  "v1/ConfigMap": "/api/v1/namespaces/{ns}/configmaps",
  "v1/ServiceAccount": "/api/v1/namespaces/{ns}/serviceaccounts",
};

interface Patch {
  path: string;
  body: Buffer;
}

/** Every document of the folder's files as one PATCH, read and serialised before the clock starts. */
export async function floorPatches(dir: string, namespace: string): Promise<Patch[]> {
  const patches: Patch[] = [];
  for (const file of (await fs.readdir(dir)).sort()) {
    for (const doc of parseAllDocuments(await fs.readFile(path.join(dir, file), "utf8"))) {
      const obj = doc.toJS() as { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } };
      const base = RESOURCES[`${obj.apiVersion}/${obj.kind}`];
      if (!base) throw new Error(`the floor knows no URL for ${obj.apiVersion} ${obj.kind}`);
      obj.metadata.namespace = namespace;
      patches.push({ path: `${base.replace("{ns}", namespace)}/${obj.metadata.name}?fieldManager=bench-floor&force=true`, body: Buffer.from(JSON.stringify(obj)) });
    }
  }
  return patches;
}

/** Sends the patches `concurrency` at a time; resolves with the wall time in ms. */
export async function sendFloor(credentials: ClusterCredentials, patches: readonly Patch[], concurrency: number): Promise<number> {
  const options = await credentials.requestOptions();
  const server = new URL(credentials.server);
  const agent = new https.Agent({ keepAlive: true, maxSockets: concurrency });
  const send = (p: Patch) => new Promise<void>((resolve, reject) => {
    const req = https.request({
      ...options, agent, hostname: server.hostname, port: server.port, method: "PATCH", path: p.path,
      headers: { ...(options.headers as Record<string, string> | undefined), "Content-Type": "application/apply-patch+yaml", "Content-Length": String(p.body.length), Accept: "application/json" },
    }, (res) => {
      res.resume();
      res.on("end", () => ((res.statusCode ?? 0) < 300 ? resolve() : reject(new Error(`PATCH ${p.path}: HTTP ${res.statusCode}`))));
    });
    req.on("error", reject);
    req.end(p.body);
  });
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < patches.length) await send(patches[next++] as Patch);
  }));
  const ms = performance.now() - started;
  agent.destroy();
  return ms;
}
