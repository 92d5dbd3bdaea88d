/**
 * The clusters `baton status` and `baton console` read Environment objects from: each `--kubeconfig FILE`
 * (its current context), or each `--context NAME` of one kubeconfig, or the default kubeconfig / the pod's
 * ServiceAccount with `--in-cluster`. One client per cluster, named by its context.
 */
import path from "node:path";
import { BatonError } from "../errors.js";
import type { ClusterReader } from "../promote/cluster-status.js";

export interface ClusterFlags {
  kubeconfig?: readonly string[];
  /** Comma-separated context names of the one kubeconfig. */
  context?: string;
  inCluster?: boolean;
  /** Comma-separated namespaces (default: all). */
  namespace?: string;
  /** How long one request to a cluster may take (default 10 s): a cluster that does not answer delays the board at most this long. */
  requestTimeoutMs?: number;
}

/** Shorter than the agent's 30 s: a person is waiting for the board, and one silent cluster must not hold the others back. */
const READ_TIMEOUT_MS = 10_000;

/** Commander collector for an option given more than once (`--kubeconfig a --kubeconfig b`). */
export const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

const list = (text: string | undefined): string[] => (text ?? "").split(",").map((s) => s.trim()).filter(Boolean);

/** No clusters when none is asked for. Loading a kubeconfig that is wrong fails here, before anything is read. */
export async function openClusterReaders(flags: ClusterFlags): Promise<ClusterReader[]> {
  const files = flags.kubeconfig ?? [];
  const contexts = list(flags.context);
  if (contexts.length > 0 && files.length > 1) {
    throw new BatonError("USAGE", "--context picks contexts of one kubeconfig, but several --kubeconfig files were given", { field: "--context", hint: "give one --kubeconfig with --context a,b, or one --kubeconfig per cluster (each read at its current context)" });
  }
  const wanted: Array<{ file?: string; context?: string }> = contexts.length > 0 ? contexts.map((context) => ({ ...(files[0] ? { file: files[0] } : {}), context }))
    : files.length > 0 ? files.map((file) => ({ file }))
      : flags.inCluster ? [{}] : [];
  if (wanted.length === 0) return [];
  // Loaded only when a cluster is asked for: the client costs CPU most `baton status` runs do not need.
  const [{ KubeClient }, { findKubeConfig }, { credentialsFor }, { clientReader }] = await Promise.all([
    import("../kube/client.js"), import("../kube/kubeconfig.js"), import("../kube/credentials.js"), import("../promote/cluster-status.js"),
  ]);
  const namespaces = list(flags.namespace);
  const resolved = wanted.map((w) => ({ ...w, config: findKubeConfig(w.file, undefined, undefined, w.context) }));
  const names = resolved.map((r) => r.config.context ?? "in-cluster");
  return resolved.map((r, i) => {
    const name = names[i] ?? "in-cluster";
    // Two files whose current contexts share a name are told apart by file name.
    const label = names.indexOf(name) !== names.lastIndexOf(name) && r.file ? `${name} (${path.basename(r.file)})` : name;
    return clientReader(label, new KubeClient(credentialsFor(r.config), { requestTimeoutMs: flags.requestTimeoutMs ?? READ_TIMEOUT_MS }), namespaces);
  });
}
