/**
 * A thin Kubernetes REST client over node:https, authenticated by ClusterCredentials (Baton's kubeconfig
 * loader: kubeconfig files or the in-cluster service account). Baton needs only a handful of verbs on arbitrary
 * kinds, plus API discovery to map kinds to resources; owning the HTTP layer lets it bound concurrency
 * with one keep-alive agent and count requests (reads and writes) for the benchmarks.
 */
import https from "node:https";
import http from "node:http";
import { HttpsProxyAgent } from "https-proxy-agent";
import { BatonError } from "../errors.js";
import { formatId, splitApiVersion, type KubeObject, type ObjectId } from "../config/objects.js";
import { credentialsFromKubeConfig, isClusterCredentials, type ClusterCredentials, type KubeConfigLike } from "./credentials.js";

export interface ResourceInfo {
  group: string;
  version: string;
  kind: string;
  plural: string;
  namespaced: boolean;
  verbs: string[];
}

export interface RequestStats {
  reads: number;
  writes: number;
  dryRuns: number;
}

/** A request cancelled by the client's signal (leadership lost, shutdown): not a failure of the object. */
export class RequestAbortedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RequestAbortedError";
  }
}

export class KubeApiError extends Error {
  constructor(readonly status: number, readonly reason: string, message: string, readonly body: unknown) {
    super(message);
    this.name = "KubeApiError";
  }
}

/** One event of a watch; BOOKMARK carries only a newer resourceVersion. */
export interface WatchEvent {
  type: "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";
  object: KubeObject;
}

export interface ApplyOptions {
  fieldManager: string;
  force?: boolean;
  dryRun?: boolean;
}

export interface ClientOptions {
  maxSockets?: number;
  /** Deadline of one request, from sending to the last byte of the answer (a slow drip counts). */
  requestTimeoutMs?: number;
  /** Sent as User-Agent, so audit logs tell replicas apart (e.g. `baton-agent/<pod name>`). */
  userAgent?: string;
}

export interface RequestOptions {
  contentType?: string;
  accept?: string;
  /** A shorter deadline than the client's, e.g. what is left of a leader's renew deadline. */
  timeoutMs?: number;
}

/** State every view of one client shares: connection pool, credentials, discovery, counters. */
class Transport {
  readonly stats: RequestStats = { reads: 0, writes: 0, dryRuns: 0 };
  readonly server: string;
  readonly agent: https.Agent | http.Agent;
  baseOptions: https.RequestOptions = {};
  ready?: Promise<void>;
  authLoadedAt = 0;
  resources = new Map<string, ResourceInfo>();
  discovered?: Promise<void>;
  /** Counts the discoveries loaded (a render that asked discovery about scope is current while it stays). */
  discoveryGeneration = 0;

  readonly credentials: ClusterCredentials;

  constructor(source: ClusterCredentials | KubeConfigLike, readonly options: ClientOptions) {
    this.credentials = isClusterCredentials(source) ? source : credentialsFromKubeConfig(source);
    this.server = this.credentials.server.replace(/\/$/, "");
    const agentOptions = { keepAlive: true, maxSockets: options.maxSockets ?? 16 };
    // Through a proxy (kubeconfig proxy-url), every connection is a CONNECT tunnel, TLS to the API server inside it.
    this.agent = this.credentials.proxyUrl ? new HttpsProxyAgent(this.credentials.proxyUrl, agentOptions)
      : this.server.startsWith("https:") ? new https.Agent(agentOptions) : new http.Agent(agentOptions);
  }
}

const describeReason = (reason: unknown): string => (reason instanceof Error ? reason.message : String(reason ?? "aborted"));

export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

/** Accept headers asking for metadata only (labels, annotations, managedFields, ownerReferences). */
const METADATA_LIST = "application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io,application/json";
const METADATA_OBJECT = "application/json;as=PartialObjectMetadata;v=v1;g=meta.k8s.io,application/json";

export class KubeClient {
  private readonly t: Transport;

  /**
   * `signal`: when it aborts, requests in flight are cancelled and no new request is sent. The agent
   * hands its reconciles a view bound to the leadership term (see withSignal), so a deposed leader
   * cannot write another byte.
   */
  constructor(source: ClusterCredentials | KubeConfigLike | Transport, options: ClientOptions = {}, private readonly signal?: AbortSignal, readonly impersonatedUser?: string) {
    this.t = source instanceof Transport ? source : new Transport(source, options);
  }

  get stats(): RequestStats {
    return this.t.stats;
  }

  /** The same client (pool, credentials, discovery) whose every request is cancelled when `signal` aborts. */
  withSignal(signal: AbortSignal): KubeClient {
    return new KubeClient(this.t, {}, this.signal ? AbortSignal.any([this.signal, signal]) : signal, this.impersonatedUser);
  }

  /**
   * The same client (pool, credentials, discovery, signal) whose every request impersonates `user`, e.g.
   * `system:serviceaccount:team-a:deployer`: the API server authorises each request as that user (and
   * adds a ServiceAccount's groups by itself).
   */
  impersonating(user: string): KubeClient {
    return new KubeClient(this.t, {}, this.signal, user);
  }

  /** Who the API server sees, for messages: `ServiceAccount team-a/deployer`, or the agent itself. */
  describeIdentity(): string {
    const sa = /^system:serviceaccount:([^:]+):(.+)$/.exec(this.impersonatedUser ?? "");
    return sa ? `ServiceAccount ${sa[1]}/${sa[2]}` : this.impersonatedUser ? `user ${this.impersonatedUser}` : "the agent";
  }

  /**
   * TLS material and credentials, reloaded every minute: projected service-account tokens rotate and
   * exec credential plugins (EKS, GKE) hand out tokens that expire.
   */
  private async init(): Promise<void> {
    const t = this.t;
    if (!t.ready || Date.now() - t.authLoadedAt > 60_000) {
      t.authLoadedAt = Date.now();
      t.ready = t.credentials.requestOptions().then((options) => {
        t.baseOptions = options;
      }, (e: unknown) => {
        t.ready = undefined;
        throw e;
      });
    }
    await t.ready;
  }

  close(): void {
    this.t.agent.destroy();
  }

  /**
   * Raw request; JSON in and out. Throws KubeApiError for non-2xx. Every request has a deadline for the
   * whole exchange (not only idle time), and none is sent once the client's signal aborted.
   */
  async request<T>(method: string, path: string, body?: unknown, options: RequestOptions | string = {}): Promise<T> {
    const { contentType = "application/json", accept = "application/json", timeoutMs } = typeof options === "string" ? { contentType: options } : options;
    this.signal?.throwIfAborted();
    await this.init();
    this.signal?.throwIfAborted();
    const t = this.t;
    if (method === "GET") t.stats.reads++;
    else if (path.includes("dryRun=All")) t.stats.dryRuns++;
    else t.stats.writes++;
    const url = new URL(t.server + path);
    const payload = body === undefined ? undefined : Buffer.from(typeof body === "string" ? body : JSON.stringify(body));
    const headers: Record<string, string> = { Accept: accept, ...(t.baseOptions.headers as Record<string, string> | undefined) };
    if (t.options.userAgent) headers["User-Agent"] = t.options.userAgent;
    if (this.impersonatedUser) headers["Impersonate-User"] = this.impersonatedUser;
    if (payload) {
      headers["Content-Type"] = contentType;
      headers["Content-Length"] = String(payload.length);
    }
    const deadline = Math.min(timeoutMs ?? Infinity, t.options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS);
    const lib = url.protocol === "https:" ? https : http;
    // One timer per request, cleared when it settles. (AbortSignal.timeout kept a timer and a signal alive
    // for the whole deadline after every request, and AbortSignal.any a WeakRef per request on the
    // client's long-lived signal: thousands of each during a 1,000-object apply.)
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const settle = (fn: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.signal?.removeEventListener("abort", onAbort);
        fn();
      };
      const fail = (e: Error) => settle(() => {
        reject(e);
        req.destroy();
      });
      const onAbort = () => fail(new RequestAbortedError(`${method} ${url.pathname}: cancelled (${describeReason(this.signal?.reason)})`));
      const timer = setTimeout(() => fail(new Error(`${method} ${url.pathname}: no answer within ${deadline} ms`)), Math.max(1, Math.ceil(deadline)));
      this.signal?.addEventListener("abort", onAbort, { once: true });
      const req = lib.request(url, { ...t.baseOptions, method, headers, agent: t.agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("error", (e) => fail(e));
        res.on("end", () => settle(() => {
          const text = Buffer.concat(chunks).toString("utf8");
          let parsed: unknown = text;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {
            // non-JSON error body
          }
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) resolve(parsed as T);
          else {
            const s = parsed as { reason?: string; message?: string } | undefined;
            reject(new KubeApiError(status, s?.reason ?? String(status), `${method} ${url.pathname}: ${s?.message ?? text.slice(0, 300)}`, parsed));
          }
        }));
      });
      req.on("error", (e) => fail(e));
      req.end(payload);
    });
  }

  /** Loads API discovery once (and again when a kind is unknown, e.g. right after a CRD was established). */
  async discover(force = false): Promise<void> {
    if (force) this.t.discovered = undefined;
    this.t.discovered ??= (async () => {
      const resources = new Map<string, ResourceInfo>();
      const add = (group: string, version: string, list: { resources: Array<{ name: string; kind: string; namespaced: boolean; verbs?: string[] }> }) => {
        for (const r of list.resources) {
          if (r.name.includes("/")) continue; // subresources
          resources.set(`${group}/${version}/${r.kind}`, { group, version, kind: r.kind, plural: r.name, namespaced: r.namespaced, verbs: r.verbs ?? [] });
        }
      };
      const core = await this.request<{ resources: Array<{ name: string; kind: string; namespaced: boolean; verbs?: string[] }> }>("GET", "/api/v1");
      add("", "v1", core);
      const groups = await this.request<{ groups: Array<{ name: string; versions: Array<{ version: string }> }> }>("GET", "/apis");
      await Promise.all(groups.groups.flatMap((g) => g.versions.map(async (v) => {
        try {
          add(g.name, v.version, await this.request("GET", `/apis/${g.name}/${v.version}`));
        } catch {
          // an unavailable aggregated API must not break discovery of the rest
        }
      })));
      this.t.resources = resources;
      this.t.discoveryGeneration++;
    })();
    try {
      await this.t.discovered;
    } catch (e) {
      this.t.discovered = undefined;
      throw e;
    }
  }

  /** Changes whenever API discovery is loaded again (e.g. after a CRD was established). */
  get discoveryGeneration(): number {
    return this.t.discoveryGeneration;
  }

  async resourceFor(apiVersion: string, kind: string): Promise<ResourceInfo> {
    const { group, version } = splitApiVersion(apiVersion);
    await this.discover();
    let info = this.t.resources.get(`${group}/${version}/${kind}`);
    if (!info) {
      await this.discover(true);
      info = this.t.resources.get(`${group}/${version}/${kind}`);
    }
    if (!info) {
      throw new BatonError("KUBE_UNKNOWN_KIND", `the cluster does not serve ${apiVersion} ${kind}`, {
        object: `${apiVersion} ${kind}`, hint: "install the CRD that defines it (in this environment or before it) or fix apiVersion/kind",
      });
    }
    return info;
  }

  /** Scope as known from discovery (for rendering); unknown kinds count as namespaced. */
  isClusterScoped(kind: string, group: string): boolean {
    for (const r of this.t.resources.values()) if (r.kind === kind && r.group === group) return !r.namespaced;
    return false;
  }

  /** Namespaced kinds that can be listed, one version each (for checking what a namespace still holds). */
  async listableNamespacedKinds(): Promise<ResourceInfo[]> {
    await this.discover();
    const byKind = new Map<string, ResourceInfo>();
    for (const r of this.t.resources.values()) if (r.namespaced && r.verbs.includes("list") && !byKind.has(`${r.group}/${r.kind}`)) byKind.set(`${r.group}/${r.kind}`, r);
    return [...byKind.values()];
  }

  pathFor(info: ResourceInfo, namespace?: string, name?: string): string {
    const base = info.group ? `/apis/${info.group}/${info.version}` : `/api/${info.version}`;
    const ns = info.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : "";
    return `${base}${ns}/${info.plural}${name ? `/${encodeURIComponent(name)}` : ""}`;
  }

  async get(apiVersion: string, kind: string, namespace: string | undefined, name: string): Promise<KubeObject | undefined> {
    const info = await this.resourceFor(apiVersion, kind);
    try {
      return await this.request<KubeObject>("GET", this.pathFor(info, namespace, name));
    } catch (e) {
      if (e instanceof KubeApiError && e.status === 404) return undefined;
      throw e;
    }
  }

  async list(apiVersion: string, kind: string, namespace: string | undefined, labelSelector?: string, fieldSelector?: string): Promise<KubeObject[]> {
    const info = await this.resourceFor(apiVersion, kind);
    const params = new URLSearchParams();
    if (labelSelector) params.set("labelSelector", labelSelector);
    if (fieldSelector) params.set("fieldSelector", fieldSelector);
    const query = params.size > 0 ? `?${params.toString()}` : "";
    const list = await this.request<{ items: KubeObject[] }>("GET", this.pathFor(info, namespace) + query);
    // Lists omit apiVersion/kind on items; restore them so callers can treat items as objects.
    return list.items.map((item) => ({ ...item, apiVersion, kind }));
  }

  /** A list and the resourceVersion it was read at: where a watch of the same objects starts (list + watch). */
  async listAt(apiVersion: string, kind: string, namespace: string | undefined): Promise<{ items: KubeObject[]; resourceVersion: string }> {
    const info = await this.resourceFor(apiVersion, kind);
    const list = await this.request<{ items: KubeObject[]; metadata: { resourceVersion: string } }>("GET", this.pathFor(info, namespace));
    return { items: list.items.map((item) => ({ ...item, apiVersion, kind })), resourceVersion: list.metadata.resourceVersion };
  }

  /**
   * Watches a kind from `resourceVersion`, calling `onEvent` for every event (bookmarks included, so the
   * caller can keep its resourceVersion current). Resolves when the server ends the watch after
   * `timeoutSeconds` (watch again from the last resourceVersion); rejects when the connection fails or
   * the server sends an ERROR event — status 410 means the resourceVersion is too old: list again.
   * Like every request it ends when the client's signal aborts.
   */
  async watch(apiVersion: string, kind: string, namespace: string | undefined, resourceVersion: string, onEvent: (event: WatchEvent) => void, timeoutSeconds = 300): Promise<void> {
    const info = await this.resourceFor(apiVersion, kind);
    this.signal?.throwIfAborted();
    await this.init();
    this.signal?.throwIfAborted();
    const t = this.t;
    t.stats.reads++;
    const query = `?watch=1&allowWatchBookmarks=true&resourceVersion=${encodeURIComponent(resourceVersion)}&timeoutSeconds=${timeoutSeconds}`;
    const url = new URL(t.server + this.pathFor(info, namespace) + query);
    const headers: Record<string, string> = { Accept: "application/json", ...(t.baseOptions.headers as Record<string, string> | undefined) };
    if (t.options.userAgent) headers["User-Agent"] = t.options.userAgent;
    if (this.impersonatedUser) headers["Impersonate-User"] = this.impersonatedUser;
    // The server closes the watch after timeoutSeconds; a connection that outlives that by far is dead.
    const timeout = AbortSignal.timeout((timeoutSeconds + 30) * 1000);
    const signal = this.signal ? AbortSignal.any([this.signal, timeout]) : timeout;
    const lib = url.protocol === "https:" ? https : http;
    await new Promise<void>((resolve, reject) => {
      const failed = (e: unknown) => reject(this.signal?.aborted ? new RequestAbortedError(`watch ${url.pathname}: cancelled (${describeReason(this.signal.reason)})`) : e instanceof Error ? e : new Error(String(e)));
      const req = lib.request(url, { ...t.baseOptions, method: "GET", headers, agent: t.agent, signal }, (res) => {
        const status = res.statusCode ?? 0;
        let buffered = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          buffered += chunk;
          if (status < 200 || status >= 300) return; // an error answer: one Status object, read at the end
          for (let nl = buffered.indexOf("\n"); nl !== -1; nl = buffered.indexOf("\n")) {
            const line = buffered.slice(0, nl).trim();
            buffered = buffered.slice(nl + 1);
            if (!line) continue;
            const event = JSON.parse(line) as WatchEvent;
            if (event.type === "ERROR") {
              const s = event.object as { code?: number; reason?: string; message?: string };
              req.destroy();
              reject(new KubeApiError(s.code ?? 500, s.reason ?? "Error", `watch ${url.pathname}: ${s.message ?? "error event"}`, s));
              return;
            }
            onEvent({ type: event.type, object: { ...event.object, apiVersion, kind } });
          }
        });
        res.on("error", failed);
        res.on("end", () => {
          if (status >= 200 && status < 300) resolve();
          else reject(new KubeApiError(status, String(status), `watch ${url.pathname}: ${buffered.slice(0, 300)}`, buffered));
        });
      });
      req.on("error", failed);
      req.end();
    });
  }

  /**
   * Metadata only (PartialObjectMetadataList: labels, annotations, managedFields, ownerReferences), for
   * ownership checks and prune guards where whole objects would be wasted bytes.
   */
  async listMetadata(apiVersion: string, kind: string, namespace: string | undefined, options: { limit?: number } = {}): Promise<KubeObject[]> {
    const info = await this.resourceFor(apiVersion, kind);
    const query = options.limit ? `?limit=${options.limit}` : "";
    const list = await this.request<{ items?: KubeObject[] }>("GET", this.pathFor(info, namespace) + query, undefined, { accept: METADATA_LIST });
    return (list.items ?? []).map((item) => ({ ...item, apiVersion, kind }));
  }

  /**
   * At most `limit` objects' metadata, and whether that was all of them (no continue token): a bounded
   * look at a namespace that may hold thousands of objects.
   */
  async listMetadataPage(apiVersion: string, kind: string, namespace: string | undefined, limit: number): Promise<{ items: KubeObject[]; complete: boolean }> {
    const info = await this.resourceFor(apiVersion, kind);
    const list = await this.request<{ items?: KubeObject[]; metadata?: { continue?: string } }>("GET", `${this.pathFor(info, namespace)}?limit=${limit}`, undefined, { accept: METADATA_LIST });
    return { items: (list.items ?? []).map((item) => ({ ...item, apiVersion, kind })), complete: !list.metadata?.continue };
  }

  /** One object's metadata (PartialObjectMetadata); undefined when it does not exist. */
  async getMetadata(apiVersion: string, kind: string, namespace: string | undefined, name: string): Promise<KubeObject | undefined> {
    const info = await this.resourceFor(apiVersion, kind);
    try {
      return { ...(await this.request<KubeObject>("GET", this.pathFor(info, namespace, name), undefined, { accept: METADATA_OBJECT })), apiVersion, kind };
    } catch (e) {
      if (e instanceof KubeApiError && e.status === 404) return undefined;
      throw e;
    }
  }

  /** Server-side apply. */
  async apply(obj: KubeObject, options: ApplyOptions): Promise<KubeObject> {
    const info = await this.resourceFor(obj.apiVersion, obj.kind);
    const params = new URLSearchParams({ fieldManager: options.fieldManager });
    if (options.force) params.set("force", "true");
    if (options.dryRun) params.set("dryRun", "All");
    return this.request<KubeObject>("PATCH", `${this.pathFor(info, obj.metadata.namespace, obj.metadata.name)}?${params}`, obj, { contentType: "application/apply-patch+yaml" });
  }

  async delete(id: ObjectId): Promise<boolean> {
    const info = await this.resourceFor(id.group ? `${id.group}/${id.version}` : id.version, id.kind);
    try {
      await this.request("DELETE", this.pathFor(info, id.namespace, id.name), { kind: "DeleteOptions", apiVersion: "v1", propagationPolicy: "Background" });
      return true;
    } catch (e) {
      if (e instanceof KubeApiError && e.status === 404) return false;
      throw e;
    }
  }

  async mergePatch(apiVersion: string, kind: string, namespace: string | undefined, name: string, patch: unknown, subresource?: "status"): Promise<KubeObject> {
    const info = await this.resourceFor(apiVersion, kind);
    return this.request<KubeObject>("PATCH", this.pathFor(info, namespace, name) + (subresource ? `/${subresource}` : ""), patch, { contentType: "application/merge-patch+json" });
  }

  async create(obj: KubeObject): Promise<KubeObject> {
    const info = await this.resourceFor(obj.apiVersion, obj.kind);
    return this.request<KubeObject>("POST", this.pathFor(info, obj.metadata.namespace), obj);
  }

  async replace(obj: KubeObject): Promise<KubeObject> {
    const info = await this.resourceFor(obj.apiVersion, obj.kind);
    return this.request<KubeObject>("PUT", this.pathFor(info, obj.metadata.namespace, obj.metadata.name), obj);
  }
}

export function describeKubeError(e: unknown, id?: ObjectId): BatonError {
  if (e instanceof BatonError) return e;
  const message = e instanceof Error ? e.message : String(e);
  const forbidden = e instanceof KubeApiError && e.status === 403;
  return new BatonError(forbidden ? "KUBE_FORBIDDEN" : "KUBE_FAILED", message, {
    ...(id ? { object: formatId(id) } : {}),
    hint: forbidden ? "grant the identity in the message this permission (the agent's ServiceAccount: the chart's RBAC; an impersonated ServiceAccount: a RoleBinding in its namespace)" : "check the API server and the object",
    cause: e,
  });
}
