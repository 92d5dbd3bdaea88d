/**
 * Where the CLI and the agent find the cluster: an explicit file, else the files listed in KUBECONFIG,
 * ~/.kube/config, or the in-cluster service account — kubectl's order and merge rules. Parsing and
 * resolution are pure (YAML text in, cluster and credentials out); only loadKubeConfig touches the disk.
 * Hand-written instead of @kubernetes/client-node's KubeConfig, whose module graph costs the agent
 * ~75 MiB and a second of CPU per start (see credentials.ts for the plugin users who still load it).
 */
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import path from "node:path";
import { isIPv6 } from "node:net";
import { parse } from "yaml";
import { z } from "zod";
import { BatonError } from "../errors.js";
import { credentialsFor, type ClusterCredentials } from "./credentials.js";

const optionalString = z.string().optional();

const clusterSchema = z.object({
  server: z.string({ required_error: "a cluster needs a server URL" }),
  "certificate-authority": optionalString,
  "certificate-authority-data": optionalString,
  "insecure-skip-tls-verify": z.boolean().optional(),
  "tls-server-name": optionalString,
  "proxy-url": optionalString,
}).passthrough();

const userSchema = z.object({
  token: optionalString,
  tokenFile: optionalString,
  "client-certificate": optionalString,
  "client-certificate-data": optionalString,
  "client-key": optionalString,
  "client-key-data": optionalString,
  username: optionalString,
  password: optionalString,
  as: optionalString,
  exec: z.record(z.unknown()).optional(),
  "auth-provider": z.record(z.unknown()).optional(),
}).passthrough();

const contextSchema = z.object({ cluster: z.string(), user: optionalString, namespace: optionalString }).passthrough();

const kubeConfigSchema = z.object({
  "current-context": optionalString,
  clusters: z.array(z.object({ name: z.string().min(1), cluster: clusterSchema })).nullish(),
  users: z.array(z.object({ name: z.string().min(1), user: userSchema.nullish() })).nullish(),
  contexts: z.array(z.object({ name: z.string().min(1), context: contextSchema })).nullish(),
}).passthrough();

type ClusterEntry = z.infer<typeof clusterSchema>;
type UserEntry = z.infer<typeof userSchema>;
type ContextEntry = z.infer<typeof contextSchema>;

/** One kubeconfig file, parsed, with relative paths made absolute against the file's folder. */
export interface KubeConfigFile {
  file: string;
  currentContext?: string;
  clusters: Map<string, ClusterEntry>;
  users: Map<string, UserEntry>;
  contexts: Map<string, ContextEntry>;
}

/** The cluster and credentials one context names: what the client connects with. */
export interface ResolvedKubeConfig {
  /** For messages: `<file> (context <name>)` or `the in-cluster service account`. */
  source: string;
  /** The context's name (absent in-cluster): what the console and `baton status` call the cluster. */
  context?: string;
  server: string;
  namespace?: string;
  tls: { caFile?: string; caData?: string; insecureSkipTlsVerify: boolean; serverName?: string };
  /** The cluster's `proxy-url`: requests to the API server go through this HTTP(S) proxy (CONNECT). */
  proxyUrl?: string;
  user: { token?: string; tokenFile?: string; certFile?: string; certData?: string; keyFile?: string; keyData?: string; username?: string; password?: string; impersonate?: string };
  /** exec or auth-provider credentials: the entries as written (paths absolute), run by client-node. */
  plugin?: { cluster: Record<string, unknown>; user: Record<string, unknown> };
}

const invalid = (file: string, message: string, field: string | undefined, hint: string) =>
  new BatonError("KUBECONFIG_INVALID", message, { file, ...(field ? { field } : {}), hint });

const PATH_FIELDS = { cluster: ["certificate-authority"], user: ["client-certificate", "client-key", "tokenFile"] } as const;

function absolutePaths<T extends Record<string, unknown>>(entry: T, fields: readonly string[], dir: string): T {
  const out: Record<string, unknown> = { ...entry };
  for (const f of fields) if (typeof out[f] === "string" && out[f] !== "") out[f] = path.resolve(dir, out[f]);
  return out as T;
}

/** Parses one kubeconfig's text. Never echoes values: a kubeconfig holds tokens and keys. */
export function parseKubeConfig(text: string, file: string): KubeConfigFile {
  let raw: unknown;
  try {
    raw = parse(text) ?? {};
  } catch (e) {
    const line = (e as { linePos?: Array<{ line: number }> }).linePos?.[0]?.line;
    throw invalid(file, `the kubeconfig is not valid YAML${line ? ` (line ${line})` : ""}`, undefined, "fix the file's YAML (`kubectl config view` shows what kubectl reads), or point --kubeconfig at another file");
  }
  const parsed = kubeConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.map((p) => (typeof p === "number" ? `[${p}]` : `.${p}`)).join("").replace(/^\./, "");
    throw invalid(file, `the kubeconfig is not a valid kubeconfig: ${issue?.message ?? "schema mismatch"}`, field || undefined, "fix this field (kubeconfig format: https://kubernetes.io/docs/concepts/configuration/organize-cluster-access-kubeconfig/)");
  }
  const dir = path.dirname(path.resolve(file));
  const doc = parsed.data;
  // Two entries of one name in one file: which one is meant is a guess, so neither is used.
  const byName = <E extends { name: string }, T>(list: E[] | null | undefined, key: string, map: (entry: E) => T): Map<string, T> => {
    const out = new Map<string, T>();
    for (const [i, e] of (list ?? []).entries()) {
      if (out.has(e.name)) throw invalid(file, `the kubeconfig defines ${key} "${e.name}" twice`, `${key}s[${i}].name`, `rename or remove one of the ${key}s named "${e.name}"`);
      out.set(e.name, map(e));
    }
    return out;
  };
  return {
    file,
    ...(doc["current-context"] ? { currentContext: doc["current-context"] } : {}),
    clusters: byName(doc.clusters, "cluster", (e) => absolutePaths(e.cluster, PATH_FIELDS.cluster, dir)),
    users: byName(doc.users, "user", (e) => absolutePaths(e.user ?? {}, PATH_FIELDS.user, dir)),
    contexts: byName(doc.contexts, "context", (e) => e.context),
  };
}

/**
 * Several files as KUBECONFIG lists them, merged as kubectl merges them: the first file to name a
 * cluster, user or context wins, and so does the first current-context.
 */
export function mergeKubeConfigs(files: readonly KubeConfigFile[]): KubeConfigFile & { origins: Map<string, string> } {
  const merged = { file: files.map((f) => f.file).join(path.delimiter), clusters: new Map(), users: new Map(), contexts: new Map(), origins: new Map<string, string>() } as KubeConfigFile & { origins: Map<string, string> };
  for (const f of files) {
    merged.currentContext ??= f.currentContext;
    for (const kind of ["clusters", "users", "contexts"] as const) {
      for (const [name, entry] of f[kind]) {
        if ((merged[kind] as Map<string, unknown>).has(name)) continue;
        (merged[kind] as Map<string, unknown>).set(name, entry);
        merged.origins.set(`${kind}/${name}`, f.file);
      }
    }
  }
  return merged;
}

/** The cluster and user of one context (default: current-context), checked as kubectl checks them. */
export function resolveKubeConfig(config: KubeConfigFile & { origins?: Map<string, string> }, contextName?: string): ResolvedKubeConfig {
  const fileOf = (key: string) => config.origins?.get(key) ?? config.file;
  const name = contextName ?? config.currentContext;
  const contextList = [...config.contexts.keys()].join(", ") || "none";
  if (!name) throw invalid(config.file, "the kubeconfig has no current-context", "current-context", `pick one with \`kubectl config use-context <name>\` (contexts: ${contextList})`);
  const context = config.contexts.get(name);
  if (!context) throw invalid(config.file, `the kubeconfig has no context "${name}"`, "current-context", `use one of its contexts: ${contextList}`);
  const contextFile = fileOf(`contexts/${name}`);
  const cluster = config.clusters.get(context.cluster);
  if (!cluster) throw invalid(contextFile, `context "${name}" names cluster "${context.cluster}", which the kubeconfig does not define`, `contexts.${name}.cluster`, "add the cluster under clusters: or fix the context");
  const clusterFile = fileOf(`clusters/${context.cluster}`);
  const user: UserEntry = context.user ? config.users.get(context.user) ?? missingUser(contextFile, name, context.user) : {};
  const userFile = context.user ? fileOf(`users/${context.user}`) : contextFile;
  const source = `${contextFile} (context ${name})`;
  checkServer(cluster.server, clusterFile, `clusters.${context.cluster}.server`);
  if (cluster["proxy-url"] !== undefined) checkProxy(cluster["proxy-url"], clusterFile, `clusters.${context.cluster}.proxy-url`);
  if (cluster["insecure-skip-tls-verify"] && (cluster["certificate-authority"] || cluster["certificate-authority-data"])) {
    throw invalid(clusterFile, `cluster "${context.cluster}" both trusts a certificate authority and skips TLS verification`, `clusters.${context.cluster}.insecure-skip-tls-verify`, "remove one of them (kubectl refuses this too)");
  }
  const hasCert = Boolean(user["client-certificate"] || user["client-certificate-data"]);
  const hasKey = Boolean(user["client-key"] || user["client-key-data"]);
  if (hasCert !== hasKey) {
    throw invalid(userFile, `user "${context.user ?? ""}" has a client ${hasCert ? "certificate without its key" : "key without its certificate"}`, `users.${context.user ?? ""}.${hasCert ? "client-key" : "client-certificate"}`, "set both client-certificate(-data) and client-key(-data)");
  }
  return {
    source,
    context: name,
    server: cluster.server.replace(/\/$/, ""),
    ...(cluster["proxy-url"] ? { proxyUrl: cluster["proxy-url"] } : {}),
    ...(context.namespace ? { namespace: context.namespace } : {}),
    tls: {
      ...defined({ caFile: cluster["certificate-authority"], caData: cluster["certificate-authority-data"], serverName: cluster["tls-server-name"] }),
      insecureSkipTlsVerify: cluster["insecure-skip-tls-verify"] === true,
    },
    user: defined({
      token: user.token, tokenFile: user.tokenFile, certFile: user["client-certificate"], certData: user["client-certificate-data"],
      keyFile: user["client-key"], keyData: user["client-key-data"], username: user.username, password: user.password, impersonate: user.as,
    }),
    ...(user.exec || user["auth-provider"] ? { plugin: { cluster: { ...cluster }, user: { ...user } } } : {}),
  };
}

function missingUser(file: string, context: string, user: string): never {
  throw invalid(file, `context "${context}" names user "${user}", which the kubeconfig does not define`, `contexts.${context}.user`, "add the user under users: or fix the context");
}

/** The URL `text` names, if it is one. */
function urlOf(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}

function checkServer(server: string, file: string, field: string): void {
  const url = urlOf(server);
  if (!url || (url.protocol !== "https:" && url.protocol !== "http:")) {
    throw invalid(file, "the cluster's server is not an http(s) URL", field, "set server to the API server's URL, e.g. https://10.0.0.1:6443");
  }
}

/** kubectl's proxy-url takes http, https and socks5; Baton tunnels through http(s) proxies only. The URL may hold a password: never echoed. */
function checkProxy(proxy: string, file: string, field: string): void {
  const url = urlOf(proxy);
  if (url?.protocol === "socks5:") throw invalid(file, "the cluster's proxy-url is a SOCKS5 proxy, which Baton does not support", field, "use an HTTP(S) proxy that supports CONNECT, or remove proxy-url");
  if (!url || (url.protocol !== "http:" && url.protocol !== "https:")) {
    throw invalid(file, "the cluster's proxy-url is not an http(s) URL", field, "set proxy-url to the proxy's URL, e.g. http://proxy.example.com:3128");
  }
}

function defined<T extends Record<string, string | undefined>>(values: T): { [K in keyof T]?: string } {
  const out: { [K in keyof T]?: string } = {};
  for (const [k, v] of Object.entries(values)) if (v !== undefined && v !== "") out[k as keyof T] = v;
  return out;
}

export const SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

/** The pod's own service account: the API server from the env vars kubelet sets, token and CA from files. */
export function inClusterConfig(env: NodeJS.ProcessEnv, dir = SERVICE_ACCOUNT_DIR): ResolvedKubeConfig {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (!host || !port) {
    throw new BatonError("KUBECONFIG_NOT_FOUND", "no kubeconfig found and not running in a pod (KUBERNETES_SERVICE_HOST/PORT are not set)", {
      hint: "pass --kubeconfig <file>, set KUBECONFIG, or create ~/.kube/config",
    });
  }
  return {
    source: "the in-cluster service account",
    server: `https://${isIPv6(host) ? `[${host}]` : host}:${port}`,
    tls: { caFile: path.join(dir, "ca.crt"), insecureSkipTlsVerify: false },
    user: { tokenFile: path.join(dir, "token") },
  };
}

function readKubeConfigFile(file: string): KubeConfigFile {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new BatonError("KUBECONFIG_NOT_FOUND", `cannot read the kubeconfig ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { file, hint: "check the path given to --kubeconfig or in KUBECONFIG", cause: e });
  }
  return parseKubeConfig(text, file);
}

/**
 * The kubeconfig to use, resolved: `file` alone when given; else every existing file KUBECONFIG lists
 * (merged; missing ones are skipped as kubectl skips them); else ~/.kube/config; else in-cluster.
 */
export function findKubeConfig(file?: string, env: NodeJS.ProcessEnv = process.env, home = homedir(), context?: string): ResolvedKubeConfig {
  if (file) return resolveKubeConfig(readKubeConfigFile(file), context);
  const listed = (env.KUBECONFIG ?? "").split(path.delimiter).filter(Boolean);
  if (listed.length > 0) {
    const existing = listed.filter((f) => existsSync(f));
    if (existing.length === 0) throw new BatonError("KUBECONFIG_NOT_FOUND", `none of the files KUBECONFIG lists exists: ${listed.join(", ")}`, { hint: "fix KUBECONFIG or pass --kubeconfig <file>" });
    return resolveKubeConfig(mergeKubeConfigs(existing.map(readKubeConfigFile)), context);
  }
  const own = path.join(home, ".kube", "config");
  if (existsSync(own)) return resolveKubeConfig(readKubeConfigFile(own), context);
  if (context) throw new BatonError("KUBECONFIG_NOT_FOUND", `no kubeconfig found to read context "${context}" from`, { hint: "pass --kubeconfig <file> or set KUBECONFIG" });
  return inClusterConfig(env);
}

/** What KubeClient connects with, from the kubeconfig `findKubeConfig` picks (its current context unless `context`). */
export function loadKubeConfig(file?: string, context?: string): ClusterCredentials {
  return credentialsFor(findKubeConfig(file, undefined, undefined, context));
}
