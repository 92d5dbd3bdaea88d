/**
 * The console's reads from the cluster (thin adapter): the Environment objects that deploy one folder and
 * the Events recorded on each. Read-only: list and get, never a write (the one rule: the console changes git).
 */
import { ENV_API_VERSION, ENV_KIND, type EnvironmentObject } from "../agent/environment.js";
import type { KubeObject } from "../config/objects.js";
import type { KubeClient } from "../kube/client.js";
import { clusterError, type ClusterReader } from "../promote/cluster-status.js";

const samePath = (a: string, b: string) => a.replace(/\/+$/, "") === b.replace(/\/+$/, "");

export async function environmentsDeploying(client: KubeClient, namespace: string | undefined, folder: string): Promise<Array<{ environment: EnvironmentObject; events: KubeObject[] }>> {
  const all = (await client.list(ENV_API_VERSION, ENV_KIND, namespace)) as EnvironmentObject[];
  const matching = all.filter((e) => samePath((e.spec as { path?: string } | undefined)?.path ?? "", folder));
  return Promise.all(matching.map(async (environment) => {
    const ns = environment.metadata.namespace ?? "default";
    // The API server filters: only this Environment's Events (the agent records them with involvedObject set).
    const selector = `involvedObject.kind=${ENV_KIND},involvedObject.name=${environment.metadata.name}`;
    const events = await client.list("v1", "Event", ns, undefined, selector);
    return { environment, events };
  }));
}

/**
 * The same over several clusters. One that cannot be read does not hide what the others hold; only when
 * nothing was found and a cluster failed is that failure the page's answer (named, without credentials).
 */
export async function environmentsDeployingIn(readers: readonly ClusterReader[], folder: string): Promise<Array<{ environment: EnvironmentObject; events: KubeObject[] }>> {
  const results = await Promise.allSettled(readers.map(async (r) => {
    if (!r.client) return [];
    const client = r.client;
    return r.namespaces?.length ? (await Promise.all(r.namespaces.map((ns) => environmentsDeploying(client, ns, folder)))).flat() : environmentsDeploying(client, undefined, folder);
  }));
  const found = results.flatMap((r) => (r.status === "fulfilled" ? r.value : []));
  const failed = results.findIndex((r) => r.status === "rejected");
  const failure = results[failed];
  if (found.length === 0 && failure?.status === "rejected") throw new Error(`cluster ${readers[failed]?.name ?? "?"}: ${clusterError(failure.reason)}`);
  return found;
}
