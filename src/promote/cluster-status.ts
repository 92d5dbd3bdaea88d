/**
 * The agent's view from one or more clusters (`baton status --kubeconfig`, the console): the Environment
 * objects' readiness, revision and drift. Each cluster is read through one client kept for the reader's
 * life, and a cluster that cannot be read is reported by name next to the others instead of failing them.
 */
import { ENV_API_VERSION, ENV_KIND, type EnvironmentObject } from "../agent/environment.js";
import type { KubeClient } from "../kube/client.js";
import { scrubSecrets } from "../util/secrets.js";

/** Environment objects as the status command reads them; the agent's status fields only. */
export interface ClusterEnvironment {
  path: string;
  ready: string;
  revision?: string;
  message?: string;
  drift?: string[];
}

/** One cluster to read: its name (the kubeconfig context) and how to list its Environments. */
export interface ClusterReader {
  name: string;
  /** Its client and the namespaces asked for (none: all), for other reads of the same cluster. */
  client?: KubeClient;
  namespaces?: readonly string[];
  list(): Promise<ClusterEnvironment[]>;
  /** Closes its client's connections. */
  close(): void;
}

/** Whether a cluster answered; `error` says why not (no credentials, no URL userinfo). */
export interface ClusterState {
  name: string;
  error?: string;
}

export interface ClusterRead {
  environments: ClusterEnvironment[];
  clusters: ClusterState[];
}

/** The agent's status fields of every Environment one client sees in `namespace` (all when undefined). */
export async function listClusterEnvironments(client: KubeClient, namespace: string | undefined): Promise<ClusterEnvironment[]> {
  const items = (await client.list(ENV_API_VERSION, ENV_KIND, namespace)) as EnvironmentObject[];
  return items.map((e) => {
    const ready = e.status?.conditions?.find((c) => c.type === "Ready");
    const spec = e.spec as { path?: string };
    return {
      path: spec.path ?? "", ready: ready?.status ?? "Unknown",
      ...(e.status?.lastAppliedRevision ? { revision: e.status.lastAppliedRevision } : {}),
      ...(ready?.message ? { message: ready.message } : {}),
      ...(e.status?.lastDrift ? { drift: e.status.lastDrift.objects } : {}),
    };
  });
}

/** A reader over one client (kept open: discovery and connections are reused by every read) and the namespaces asked for. */
export function clientReader(name: string, client: KubeClient, namespaces?: readonly string[]): ClusterReader {
  return {
    name, client, ...(namespaces ? { namespaces } : {}),
    list: async () => (namespaces?.length ? (await Promise.all(namespaces.map((ns) => listClusterEnvironments(client, ns)))).flat() : listClusterEnvironments(client, undefined)),
    close: () => client.close(),
  };
}

/** What a failed read may show: its first line, without credentials or the userinfo of any URL in it. */
export function clusterError(e: unknown): string {
  const text = (e instanceof Error ? e.message : String(e)).split("\n")[0] ?? "";
  return `cannot read its Environments: ${scrubSecrets(text)}`;
}

/** Every cluster at once; one that fails is named with its error and the others still count. */
export async function readClusters(readers: readonly ClusterReader[]): Promise<ClusterRead> {
  const results = await Promise.allSettled(readers.map((r) => r.list()));
  const environments: ClusterEnvironment[] = [];
  const clusters = readers.map((reader, i): ClusterState => {
    const result = results[i];
    if (result?.status === "fulfilled") {
      environments.push(...result.value);
      return { name: reader.name };
    }
    return { name: reader.name, error: clusterError(result?.reason) };
  });
  return { environments, clusters };
}
