/**
 * What the Kubernetes client needs of a kubeconfig: where the API server is and how to authenticate to it.
 * Baton's own loader (kubeconfig.ts) builds these from files and the in-cluster service account without
 * @kubernetes/client-node, which costs about 75 MiB of memory and a second of CPU to load because it pulls
 * in the whole generated API; that library is loaded here, lazily, only for users whose credentials come
 * from an exec or auth-provider plugin (EKS, GKE, OIDC), whose protocols it implements and Baton does not.
 */
import { readFileSync } from "node:fs";
import type https from "node:https";
import { stringify } from "yaml";
import { BatonError } from "../errors.js";
import type { ResolvedKubeConfig } from "./kubeconfig.js";

export interface ClusterCredentials {
  /** The API server's base URL, e.g. `https://10.0.0.1:443`. */
  readonly server: string;
  /**
   * TLS material and auth headers for the next requests. KubeClient calls it again every minute:
   * projected service-account tokens rotate and plugin tokens expire, so files are read on every call.
   */
  requestOptions(): Promise<https.RequestOptions>;
  /** An HTTP(S) proxy the API server is reached through (kubeconfig `proxy-url`); may hold credentials. */
  readonly proxyUrl?: string;
}

/** The part of @kubernetes/client-node's KubeConfig Baton uses: tests and plugin users hand one over. */
export interface KubeConfigLike {
  getCurrentCluster(): { server: string; proxyUrl?: string | undefined } | null;
  applyToHTTPSOptions(options: https.RequestOptions): Promise<void>;
}

export function isClusterCredentials(source: ClusterCredentials | KubeConfigLike): source is ClusterCredentials {
  return "requestOptions" in source;
}

export function credentialsFromKubeConfig(kc: KubeConfigLike): ClusterCredentials {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new BatonError("KUBECONFIG_INVALID", "kubeconfig has no current cluster", { hint: "set current-context to a context whose cluster exists, or run in-cluster" });
  return {
    server: cluster.server.replace(/\/$/, ""),
    ...(cluster.proxyUrl ? { proxyUrl: cluster.proxyUrl } : {}),
    async requestOptions() {
      const options: https.RequestOptions = {};
      await kc.applyToHTTPSOptions(options);
      return options;
    },
  };
}

/** Credentials of a resolved kubeconfig: static ones read here, plugin ones through client-node. */
export function credentialsFor(config: ResolvedKubeConfig): ClusterCredentials {
  return config.plugin ? pluginCredentials(config) : staticCredentials(config);
}

function readFile(file: string, what: string, source: string): Buffer {
  try {
    return readFileSync(file);
  } catch (e) {
    throw new BatonError("KUBECONFIG_INVALID", `cannot read the ${what} ${file} named by ${source}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, {
      file, hint: `make the file readable by the agent, or change ${source}`, cause: e,
    });
  }
}

const proxyOf = (config: ResolvedKubeConfig): { proxyUrl?: string } => (config.proxyUrl ? { proxyUrl: config.proxyUrl } : {});

function staticCredentials(config: ResolvedKubeConfig): ClusterCredentials {
  const { tls, user, source } = config;
  const build = (): https.RequestOptions => {
    const options: https.RequestOptions = {};
    const headers: Record<string, string> = {};
    if (tls.insecureSkipTlsVerify) options.rejectUnauthorized = false;
    if (tls.serverName) options.servername = tls.serverName;
    if (tls.caFile) options.ca = readFile(tls.caFile, "certificate authority", source);
    else if (tls.caData) options.ca = Buffer.from(tls.caData, "base64");
    if (user.certFile) options.cert = readFile(user.certFile, "client certificate", source);
    else if (user.certData) options.cert = Buffer.from(user.certData, "base64");
    if (user.keyFile) options.key = readFile(user.keyFile, "client key", source);
    else if (user.keyData) options.key = Buffer.from(user.keyData, "base64");
    const token = user.token ?? (user.tokenFile ? readFile(user.tokenFile, "token file", source).toString("utf8").trim() : undefined);
    if (token) headers.Authorization = `Bearer ${token}`;
    else if (user.username !== undefined) options.auth = `${user.username}:${user.password ?? ""}`;
    if (user.impersonate) headers["Impersonate-User"] = user.impersonate;
    options.headers = headers;
    return options;
  };
  // A file that cannot be read rejects the request (new Promise turns the throw into a rejection).
  return { server: config.server, ...proxyOf(config), requestOptions: () => new Promise((resolve) => resolve(build())) };
}

/**
 * An exec or auth-provider user: client-node runs the plugin and caches its token. It is given a
 * kubeconfig of just this cluster and user (paths already absolute), loaded on the first request.
 */
function pluginCredentials(config: ResolvedKubeConfig): ClusterCredentials {
  const plugin = config.plugin;
  if (!plugin) throw new Error("pluginCredentials without a plugin");
  let kc: Promise<KubeConfigLike> | undefined;
  const load = async (): Promise<KubeConfigLike> => {
    const { KubeConfig } = await import("@kubernetes/client-node");
    const loaded = new KubeConfig();
    loaded.loadFromString(stringify({
      apiVersion: "v1", kind: "Config", "current-context": "baton",
      clusters: [{ name: "baton", cluster: plugin.cluster }],
      users: [{ name: "baton", user: plugin.user }],
      contexts: [{ name: "baton", context: { cluster: "baton", user: "baton" } }],
    }));
    return loaded;
  };
  return {
    server: config.server,
    ...proxyOf(config),
    async requestOptions() {
      kc ??= load().catch((e: unknown) => {
        kc = undefined; // try again on the next request
        throw e;
      });
      const options: https.RequestOptions = {};
      await (await kc).applyToHTTPSOptions(options);
      return options;
    },
  };
}
