/**
 * A thin Kubernetes REST client over node:https, authenticated by @kubernetes/client-node's KubeConfig
 * (kubeconfig file or in-cluster service account). Baton needs only a handful of verbs on arbitrary
 * kinds, plus API discovery to map kinds to resources; owning the HTTP layer lets it bound concurrency
 * with one keep-alive agent and count requests (reads and writes) for the benchmarks.
 */
import https from "node:https";
import http from "node:http";
import type { KubeConfig } from "@kubernetes/client-node";
import { BatonError } from "../errors.js";
import { formatId, splitApiVersion, type KubeObject, type ObjectId } from "../config/objects.js";

export interface ResourceInfo {
  group: string;
  version: string;
  kind: string;
  plural: string;
  namespaced: boolean;
}

export interface RequestStats {
  reads: number;
  writes: number;
  dryRuns: number;
}

export class KubeApiError extends Error {
  constructor(readonly status: number, readonly reason: string, message: string, readonly body: unknown) {
    super(message);
    this.name = "KubeApiError";
  }
}

export interface ApplyOptions {
  fieldManager: string;
  force?: boolean;
  dryRun?: boolean;
}

export class KubeClient {
  readonly stats: RequestStats = { reads: 0, writes: 0, dryRuns: 0 };
  private readonly server: string;
  private readonly agent: https.Agent | http.Agent;
  private baseOptions: https.RequestOptions = {};
  private ready?: Promise<void>;
  private authLoadedAt = 0;
  private resources = new Map<string, ResourceInfo>();
  private discovered?: Promise<void>;

  constructor(private readonly kc: KubeConfig, options: { maxSockets?: number } = {}) {
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new BatonError("KUBE_FAILED", "kubeconfig has no current cluster", { hint: "set a current-context or run in-cluster" });
    this.server = cluster.server.replace(/\/$/, "");
    const agentOptions = { keepAlive: true, maxSockets: options.maxSockets ?? 16 };
    this.agent = this.server.startsWith("https:") ? new https.Agent(agentOptions) : new http.Agent(agentOptions);
  }

  /**
   * TLS material and credentials from the KubeConfig, reloaded every minute: projected service-account
   * tokens rotate and exec credential plugins (EKS, GKE) hand out tokens that expire.
   */
  private async init(): Promise<void> {
    if (!this.ready || Date.now() - this.authLoadedAt > 60_000) {
      this.authLoadedAt = Date.now();
      const options: https.RequestOptions = {};
      this.ready = this.kc.applyToHTTPSOptions(options).then(() => {
        this.baseOptions = options;
      }, (e: unknown) => {
        this.ready = undefined;
        throw e;
      });
    }
    await this.ready;
  }

  close(): void {
    this.agent.destroy();
  }

  /** Raw request; JSON in and out. Throws KubeApiError for non-2xx. */
  async request<T>(method: string, path: string, body?: unknown, contentType = "application/json"): Promise<T> {
    await this.init();
    if (method === "GET") this.stats.reads++;
    else if (path.includes("dryRun=All")) this.stats.dryRuns++;
    else this.stats.writes++;
    const url = new URL(this.server + path);
    const payload = body === undefined ? undefined : Buffer.from(typeof body === "string" ? body : JSON.stringify(body));
    const headers: Record<string, string> = { Accept: "application/json", ...(this.baseOptions.headers as Record<string, string> | undefined) };
    if (payload) {
      headers["Content-Type"] = contentType;
      headers["Content-Length"] = String(payload.length);
    }
    const lib = url.protocol === "https:" ? https : http;
    return new Promise<T>((resolve, reject) => {
      const req = lib.request(url, { ...this.baseOptions, method, headers, agent: this.agent, timeout: 30_000 }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
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
        });
      });
      req.on("timeout", () => req.destroy(new Error(`${method} ${url.pathname}: timed out`)));
      req.on("error", reject);
      if (payload) req.write(payload);
      req.end();
    });
  }

  /** Loads API discovery once (and again when a kind is unknown, e.g. right after a CRD was established). */
  async discover(force = false): Promise<void> {
    if (force) this.discovered = undefined;
    this.discovered ??= (async () => {
      const resources = new Map<string, ResourceInfo>();
      const add = (group: string, version: string, list: { resources: Array<{ name: string; kind: string; namespaced: boolean }> }) => {
        for (const r of list.resources) {
          if (r.name.includes("/")) continue; // subresources
          resources.set(`${group}/${version}/${r.kind}`, { group, version, kind: r.kind, plural: r.name, namespaced: r.namespaced });
        }
      };
      const core = await this.request<{ resources: Array<{ name: string; kind: string; namespaced: boolean }> }>("GET", "/api/v1");
      add("", "v1", core);
      const groups = await this.request<{ groups: Array<{ name: string; versions: Array<{ version: string }> }> }>("GET", "/apis");
      await Promise.all(groups.groups.flatMap((g) => g.versions.map(async (v) => {
        try {
          add(g.name, v.version, await this.request("GET", `/apis/${g.name}/${v.version}`));
        } catch {
          // an unavailable aggregated API must not break discovery of the rest
        }
      })));
      this.resources = resources;
    })();
    try {
      await this.discovered;
    } catch (e) {
      this.discovered = undefined;
      throw e;
    }
  }

  async resourceFor(apiVersion: string, kind: string): Promise<ResourceInfo> {
    const { group, version } = splitApiVersion(apiVersion);
    await this.discover();
    let info = this.resources.get(`${group}/${version}/${kind}`);
    if (!info) {
      await this.discover(true);
      info = this.resources.get(`${group}/${version}/${kind}`);
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
    for (const r of this.resources.values()) if (r.kind === kind && r.group === group) return !r.namespaced;
    return false;
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

  async list(apiVersion: string, kind: string, namespace: string | undefined, labelSelector?: string): Promise<KubeObject[]> {
    const info = await this.resourceFor(apiVersion, kind);
    const query = labelSelector ? `?labelSelector=${encodeURIComponent(labelSelector)}` : "";
    const list = await this.request<{ items: KubeObject[] }>("GET", this.pathFor(info, namespace) + query);
    // Lists omit apiVersion/kind on items; restore them so callers can treat items as objects.
    return list.items.map((item) => ({ ...item, apiVersion, kind }));
  }

  /** Server-side apply. */
  async apply(obj: KubeObject, options: ApplyOptions): Promise<KubeObject> {
    const info = await this.resourceFor(obj.apiVersion, obj.kind);
    const params = new URLSearchParams({ fieldManager: options.fieldManager });
    if (options.force) params.set("force", "true");
    if (options.dryRun) params.set("dryRun", "All");
    return this.request<KubeObject>("PATCH", `${this.pathFor(info, obj.metadata.namespace, obj.metadata.name)}?${params}`, obj, "application/apply-patch+yaml");
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
    return this.request<KubeObject>("PATCH", this.pathFor(info, namespace, name) + (subresource ? `/${subresource}` : ""), patch, "application/merge-patch+json");
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
  return new BatonError("KUBE_FAILED", message, {
    ...(id ? { object: formatId(id) } : {}),
    hint: e instanceof KubeApiError && e.status === 403 ? "grant the agent's ServiceAccount this permission (see the chart's RBAC)" : "check the API server and the object",
    cause: e,
  });
}
