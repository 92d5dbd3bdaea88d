/**
 * A thin client of the OCI distribution API, read-only (it never pushes or tags): list tags, resolve a tag
 * to a digest, read manifests and small blobs. Authentication follows the registry's challenge (token
 * endpoint with Basic credentials, or Basic directly); `429` waits for `Retry-After` within a bound; every
 * failure is a BatonError naming the registry and the reference, never the credentials.
 */
import { BatonError } from "../errors.js";
import { basicHeader, parseChallenge, tokenFromResponse, type Challenge, type Credential } from "./auth.js";
import { nextPageUrl, retryAfterMs } from "./link.js";
import { MANIFEST_ACCEPT, parseManifest, sha256Digest, type ParsedManifest } from "./manifest.js";
import { baseUrl, coordinates, isLoopback, type RegistryCoordinates } from "./reference.js";

export interface RegistryClientOptions {
  /** The credential for a registry, by its coordinates (e.g. from a docker config file). */
  credentials?: (registry: RegistryCoordinates) => Credential | undefined;
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  /** The longest `Retry-After` honoured by waiting; a longer one fails with REGISTRY_RATE_LIMITED (default 60 s). */
  maxRetryWaitMs?: number;
  /** Requests per call, counting retries after 429 (default 4). */
  maxAttempts?: number;
  timeoutMs?: number;
}

/** Manifests are at most 4 MiB (the distribution spec's suggestion); tag list pages and config blobs too. */
const MAX_DOCUMENT_BYTES = 4 * 1024 * 1024;
const MAX_TAG_PAGES = 200;

export class RegistryClient {
  private readonly fetchFn: typeof fetch;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly tokens = new Map<string, string>();
  private readonly basicHosts = new Set<string>();

  constructor(private readonly options: RegistryClientOptions = {}) {
    this.fetchFn = options.fetch ?? fetch;
    this.sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  /** Every tag of the repository, following `Link: rel="next"` pages. */
  async listTags(repository: string): Promise<string[]> {
    const at = coordinates(repository);
    const tags: string[] = [];
    let url: string | undefined = `${baseUrl(at.host)}/v2/${at.name}/tags/list?n=1000`;
    for (let page = 0; url && page < MAX_TAG_PAGES; page++) {
      const res = await this.request(at, url, { method: "GET", headers: { accept: "application/json" } }, repository);
      const body = await readJson(res, repository, "tag list");
      const list = (body as { tags?: unknown }).tags;
      if (list !== null && list !== undefined && (!Array.isArray(list) || list.some((t) => typeof t !== "string"))) {
        throw new BatonError("REGISTRY_FAILED", `${at.host} answered the tag list of ${repository} with something that is not a list of tags`, { object: repository, hint: "is this an OCI distribution registry?" });
      }
      tags.push(...((list as string[] | null | undefined) ?? []));
      url = nextPageUrl(res.headers.get("link"), url);
    }
    return tags;
  }

  /** A tag's manifest (index or image) and its digest: the digest to pin, an index's for a multi-arch tag. */
  async manifest(repository: string, reference: string): Promise<ParsedManifest> {
    const at = coordinates(repository);
    const byDigest = reference.startsWith("sha256:");
    const name = `${repository}${byDigest ? "@" : ":"}${reference}`;
    const res = await this.request(at, `${baseUrl(at.host)}/v2/${at.name}/manifests/${reference}`, { method: "GET", headers: { accept: MANIFEST_ACCEPT } }, name);
    const bytes = await readLimited(res, name, "manifest");
    const parsed = parseManifest(bytes, res.headers.get("content-type"), name, byDigest ? reference : undefined);
    const claimed = res.headers.get("docker-content-digest");
    if (!byDigest && claimed && claimed !== parsed.digest) {
      throw new BatonError("REGISTRY_BAD_MANIFEST", `${at.host} says ${name} is ${claimed} but its manifest hashes to ${parsed.digest}`, { object: name, hint: "the registry or a proxy in between altered the manifest" });
    }
    return parsed;
  }

  /**
   * The digest a tag points at, by HEAD (no body, and not counted as a pull by Docker Hub); a registry
   * that does not send Docker-Content-Digest on HEAD is asked with GET and the body hashed.
   */
  async resolve(repository: string, tag: string): Promise<string> {
    const at = coordinates(repository);
    const name = `${repository}:${tag}`;
    const res = await this.request(at, `${baseUrl(at.host)}/v2/${at.name}/manifests/${tag}`, { method: "HEAD", headers: { accept: MANIFEST_ACCEPT } }, name);
    await res.body?.cancel().catch(() => undefined);
    const claimed = res.headers.get("docker-content-digest");
    if (claimed && /^sha256:[a-f0-9]{64}$/.test(claimed)) return claimed;
    return (await this.manifest(repository, tag)).digest;
  }

  /** Whether a manifest exists (HEAD); a missing one is false, every other failure throws. */
  async exists(repository: string, reference: string): Promise<boolean> {
    const at = coordinates(repository);
    const name = `${repository}:${reference}`;
    try {
      const res = await this.request(at, `${baseUrl(at.host)}/v2/${at.name}/manifests/${reference}`, { method: "HEAD", headers: { accept: MANIFEST_ACCEPT } }, name);
      await res.body?.cancel();
      return true;
    } catch (e) {
      if (e instanceof BatonError && e.code === "REGISTRY_NOT_FOUND") return false;
      throw e;
    }
  }

  /** A blob (config, signature payload, a chart archive), checked against its digest; at most `maxBytes` (default 4 MiB). */
  async blob(repository: string, digest: string, maxBytes = MAX_DOCUMENT_BYTES): Promise<Uint8Array> {
    const at = coordinates(repository);
    const name = `${repository}@${digest}`;
    const res = await this.request(at, `${baseUrl(at.host)}/v2/${at.name}/blobs/${digest}`, { method: "GET", headers: {} }, name);
    const bytes = await readLimited(res, name, "blob", maxBytes);
    if (sha256Digest(bytes) !== digest) throw new BatonError("REGISTRY_BAD_MANIFEST", `the blob ${name} does not hash to its digest`, { object: name, hint: "the registry or a proxy in between altered it" });
    return bytes;
  }

  private async request(at: RegistryCoordinates, url: string, init: RequestInit & { headers: Record<string, string> }, reference: string): Promise<Response> {
    const maxAttempts = this.options.maxAttempts ?? 4;
    const maxWait = this.options.maxRetryWaitMs ?? 60_000;
    const scope = `repository:${at.name}:pull`;
    let authenticated = false;
    for (let attempt = 1; ; attempt++) {
      const headers = { ...init.headers, ...this.authorization(at, scope) };
      let res: Response;
      try {
        res = await this.fetchFn(url, { ...init, headers, redirect: "follow", signal: AbortSignal.timeout(this.options.timeoutMs ?? 30_000) });
      } catch (e) {
        throw new BatonError("REGISTRY_UNREACHABLE", `cannot reach the registry ${at.host} for ${reference}: ${networkReason(e)}`, { object: reference, hint: `check the repository's host and that ${at.host} is reachable from here${isLoopback(at.host) ? "" : " over https"}` });
      }
      if (res.ok) return res;
      await res.body?.cancel().catch(() => undefined);
      if (res.status === 401 && !authenticated) {
        const challenge = parseChallenge(res.headers.get("www-authenticate"));
        if (challenge) {
          authenticated = true;
          await this.authenticate(at, challenge, scope, reference);
          attempt--;
          continue;
        }
      }
      if (res.status === 401 || res.status === 403) {
        const has = this.options.credentials?.(at) !== undefined;
        throw new BatonError("REGISTRY_UNAUTHORIZED", `${at.host} refused access to ${reference} (HTTP ${res.status}${has ? ", with the configured credentials" : ", without credentials"})`, { object: reference, hint: has ? "check the credentials in the docker config file can pull this repository" : `give a docker config file with credentials for ${at.host} (--docker-config, or the agent's --registry-config)` });
      }
      if (res.status === 404) throw new BatonError("REGISTRY_NOT_FOUND", `${reference} does not exist on ${at.host}`, { object: reference, hint: "check the repository and tag (or the repository was deleted)" });
      if (res.status === 429) {
        const wait = retryAfterMs(res.headers.get("retry-after")) ?? 1000 * 2 ** (attempt - 1);
        if (attempt >= maxAttempts || wait > maxWait) {
          throw new BatonError("REGISTRY_RATE_LIMITED", `${at.host} is rate limiting requests for ${reference} (HTTP 429${res.headers.get("retry-after") ? `, retry after ${Math.ceil(wait / 1000)}s` : ""})`, { object: reference, hint: "the next watch run retries; poll less often or use credentials with a higher limit" });
        }
        await this.sleep(wait);
        continue;
      }
      throw new BatonError("REGISTRY_FAILED", `${at.host} answered HTTP ${res.status} for ${reference}`, { object: reference, hint: "the next run retries; check the registry's health" });
    }
  }

  private authorization(at: RegistryCoordinates, scope: string): Record<string, string> {
    const token = this.tokens.get(`${at.host} ${scope}`);
    if (token) return { authorization: `Bearer ${token}` };
    if (this.basicHosts.has(at.host)) {
      const cred = this.options.credentials?.(at);
      if (cred?.kind === "basic") return { authorization: basicHeader(cred.username, cred.password) };
    }
    return {};
  }

  private async authenticate(at: RegistryCoordinates, challenge: Challenge, scope: string, reference: string): Promise<void> {
    const cred = this.options.credentials?.(at);
    if (challenge.scheme === "basic") {
      if (cred?.kind === "basic") this.basicHosts.add(at.host);
      return;
    }
    if (!challenge.realm) throw new BatonError("REGISTRY_FAILED", `${at.host} asked for a bearer token without naming where to get one`, { object: reference });
    let realm: URL;
    try {
      realm = new URL(challenge.realm);
    } catch {
      throw new BatonError("REGISTRY_FAILED", `${at.host} named an unusable token endpoint`, { object: reference });
    }
    // Credentials go to the token endpoint only over https (or on loopback, like the registry itself).
    if (realm.protocol !== "https:" && !(realm.protocol === "http:" && isLoopback(realm.host))) {
      throw new BatonError("REGISTRY_FAILED", `${at.host} named a token endpoint that is not https (${realm.origin})`, { object: reference, hint: "Baton sends registry credentials over https only" });
    }
    if (challenge.service) realm.searchParams.set("service", challenge.service);
    realm.searchParams.set("scope", scope);
    const headers: Record<string, string> = { accept: "application/json" };
    if (cred?.kind === "basic") headers.authorization = basicHeader(cred.username, cred.password);
    let res: Response;
    try {
      res = await this.fetchFn(realm, { method: "GET", headers, signal: AbortSignal.timeout(this.options.timeoutMs ?? 30_000) });
    } catch (e) {
      throw new BatonError("REGISTRY_UNREACHABLE", `cannot reach the token endpoint ${realm.host} of ${at.host}: ${networkReason(e)}`, { object: reference });
    }
    if (res.status === 401 || res.status === 403) {
      await res.body?.cancel().catch(() => undefined);
      throw new BatonError("REGISTRY_UNAUTHORIZED", `the token endpoint of ${at.host} refused ${cred ? "the configured credentials" : "an anonymous token"} for ${reference} (HTTP ${res.status})`, { object: reference, hint: cred ? "check the credentials in the docker config file" : `give a docker config file with credentials for ${at.host}` });
    }
    const token = res.ok ? tokenFromResponse(await readJson(res, reference, "token").catch(() => undefined)) : undefined;
    if (!token) throw new BatonError("REGISTRY_FAILED", `the token endpoint of ${at.host} answered HTTP ${res.status} without a token`, { object: reference });
    this.tokens.set(`${at.host} ${scope}`, token);
  }
}

function networkReason(e: unknown): string {
  const cause = e instanceof Error && e.cause instanceof Error ? e.cause : e;
  const code = (cause as { code?: unknown } | undefined)?.code;
  if (typeof code === "string") return code;
  if (e instanceof Error && e.name === "TimeoutError") return "timed out";
  return cause instanceof Error ? cause.message : String(cause);
}

async function readLimited(res: Response, reference: string, what: string, max = MAX_DOCUMENT_BYTES): Promise<Uint8Array> {
  const declared = Number(res.headers.get("content-length") ?? "0");
  const tooLarge = () => new BatonError("REGISTRY_BAD_MANIFEST", `the ${what} of ${reference} is larger than ${max} bytes`, { object: reference });
  if (declared > max) {
    await res.body?.cancel().catch(() => undefined);
    throw tooLarge();
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (res.body) {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      size += chunk.byteLength;
      if (size > max) throw tooLarge();
      chunks.push(chunk);
    }
  }
  return Buffer.concat(chunks);
}

async function readJson(res: Response, reference: string, what: string): Promise<object> {
  const bytes = await readLimited(res, reference, what);
  try {
    const json: unknown = JSON.parse(Buffer.from(bytes).toString("utf8"));
    if (typeof json === "object" && json !== null) return json;
  } catch {
    // fall through
  }
  throw new BatonError("REGISTRY_FAILED", `the ${what} of ${reference} is not a JSON object`, { object: reference });
}
