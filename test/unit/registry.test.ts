// The registry client's pure parts, and its HTTP flow against a scripted fetch (auth, 429, pagination).
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash, generateKeyPairSync, sign, type KeyObject } from "node:crypto";
import { BatonError } from "../../src/errors.js";
import { credentialFromDockerConfig, parseChallenge } from "../../src/registry/auth.js";
import { RegistryClient } from "../../src/registry/client.js";
import { nextPageUrl, retryAfterMs } from "../../src/registry/link.js";
import { MEDIA_TYPES, parseManifest, representativeManifest } from "../../src/registry/manifest.js";
import { provenanceLine } from "../../src/registry/provenance.js";
import { coordinates } from "../../src/registry/reference.js";
import { checkPayload, parsePublicKey, signatureTag } from "../../src/registry/signature.js";
import { matchingTags, newestTag } from "../../src/registry/tag-policy.js";
import { parsePipeline } from "../../src/config/pipeline.js";
import { scrubSecrets } from "../../src/util/secrets.js";

const D = (c: string) => `sha256:${c.repeat(64)}`;
const isCode = (code: string) => (e: unknown) => e instanceof BatonError && e.code === code;
const digestOf = (text: string) => `sha256:${createHash("sha256").update(text).digest("hex")}`;

test("coordinates: Docker Hub's implicit parts, other registries as written", () => {
  assert.deepEqual(coordinates("nginx"), { host: "registry-1.docker.io", name: "library/nginx", credentialKeys: ["https://index.docker.io/v1/", "index.docker.io", "docker.io", "registry-1.docker.io"] });
  assert.equal(coordinates("ghcr.io/acme/web").name, "acme/web");
  assert.equal(coordinates("127.0.0.1:5000/acme/web").host, "127.0.0.1:5000");
});

test("Link rel=next pages stay on the registry's origin; Retry-After in seconds or as a date", () => {
  const cur = "https://r.example/v2/acme/web/tags/list?n=2";
  assert.equal(nextPageUrl('</v2/acme/web/tags/list?n=2&last=b>; rel="next"', cur), "https://r.example/v2/acme/web/tags/list?n=2&last=b");
  assert.equal(nextPageUrl('<https://evil.example/v2/x>; rel="next"', cur), undefined);
  assert.equal(nextPageUrl('</a>; rel="prev", </b>; rel="next"', cur), "https://r.example/b");
  assert.equal(nextPageUrl(null, cur), undefined);
  assert.equal(retryAfterMs("3"), 3000);
  assert.equal(retryAfterMs(new Date(10_000).toUTCString(), 4_000), 6000);
  assert.equal(retryAfterMs("soon"), undefined);
});

test("challenges and docker config credentials", () => {
  assert.deepEqual(parseChallenge('Bearer realm="https://auth.example/token",service="registry.example",scope="repository:acme/web:pull"'),
    { scheme: "bearer", realm: "https://auth.example/token", service: "registry.example", scope: "repository:acme/web:pull" });
  assert.deepEqual(parseChallenge('Basic realm="Registry"'), { scheme: "basic", realm: "Registry" });
  assert.equal(parseChallenge("Negotiate abc"), undefined);
  const config = JSON.stringify({ auths: { "https://index.docker.io/v1/": { auth: Buffer.from("hub-user:hub-pass-123").toString("base64") }, "ghcr.io": { username: "bot", password: "ghcr-pass-456" } } });
  assert.deepEqual(credentialFromDockerConfig(config, coordinates("nginx").credentialKeys, "cfg.json"), { kind: "basic", username: "hub-user", password: "hub-pass-123" });
  assert.deepEqual(credentialFromDockerConfig(config, coordinates("ghcr.io/acme/web").credentialKeys, "cfg.json"), { kind: "basic", username: "bot", password: "ghcr-pass-456" });
  assert.equal(credentialFromDockerConfig(config, coordinates("quay.io/acme/web").credentialKeys, "cfg.json"), undefined);
  // Read passwords are registered secrets: they never survive into a message.
  assert.equal(scrubSecrets("failed with ghcr-pass-456"), "failed with [redacted]");
  assert.throws(() => credentialFromDockerConfig("{nope", [], "cfg.json"), (e: unknown) => isCode("REGISTRY_CREDENTIALS")(e) && (e as BatonError).file === "cfg.json");
  assert.throws(() => credentialFromDockerConfig(JSON.stringify({ auths: { "ghcr.io": { auth: Buffer.from("nocolon").toString("base64") } } }), ["ghcr.io"], "cfg.json"), isCode("REGISTRY_CREDENTIALS"));
});

test("manifests: index vs image by media type, digest checked, malformed refused", () => {
  const index = JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests: [
    { mediaType: MEDIA_TYPES.ociManifest, digest: D("a"), size: 10, platform: { os: "linux", architecture: "arm64" } },
    { mediaType: MEDIA_TYPES.ociManifest, digest: D("b"), size: 10, platform: { os: "linux", architecture: "amd64" } },
  ] });
  const parsed = parseManifest(Buffer.from(index), null, "r/web:1");
  assert.equal(parsed.kind, "index");
  assert.equal(parsed.digest, digestOf(index));
  assert.equal(parsed.kind === "index" && representativeManifest(parsed)?.digest, D("b"));
  const docker = JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.dockerManifest, config: { mediaType: "application/vnd.docker.container.image.v1+json", digest: D("c"), size: 1 }, layers: [] });
  assert.equal(parseManifest(Buffer.from(docker), MEDIA_TYPES.dockerManifest, "r/web:1").kind, "image");
  assert.throws(() => parseManifest(Buffer.from(docker), null, "r/web@x", D("f")), (e: unknown) => isCode("REGISTRY_BAD_MANIFEST")(e) && /hashes to/.test((e as Error).message));
  assert.throws(() => parseManifest(Buffer.from("not json"), null, "r/web:1"), isCode("REGISTRY_BAD_MANIFEST"));
  assert.throws(() => parseManifest(Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociManifest, config: "oops", layers: [] })), null, "r/web:1"), (e: unknown) => isCode("REGISTRY_BAD_MANIFEST")(e) && /config/.test((e as Error).message));
  assert.throws(() => parseManifest(Buffer.from(JSON.stringify({ schemaVersion: 1, name: "x", fsLayers: [] })), null, "r/web:1"), isCode("REGISTRY_BAD_MANIFEST"));
});

test("tag policies: semver ranges without prereleases, regex ordered by its first group", () => {
  const tags = ["1.0.0", "1.10.0", "1.9.3", "2.0.0", "1.11.0-rc.1", "latest", "v1.10.1", "main-9", "main-10", "main-x"];
  assert.equal(newestTag(tags, { semver: ">=1.0.0 <2" }), "v1.10.1");
  assert.deepEqual(matchingTags(tags, { semver: "~1.9" }), ["1.9.3"]);
  assert.equal(newestTag(tags, { semver: ">=1.11.0-rc.0 <2" }), "1.11.0-rc.1");
  assert.equal(newestTag(tags, { pattern: "^main-(\\d+)$", order: "numerical" }), "main-10");
  assert.equal(newestTag(tags, { pattern: "^main-(\\d+)$", order: "alphabetical" }), "main-9");
  assert.equal(newestTag(tags, { semver: ">=3" }), undefined);
});

test("imageWatch in baton.yaml: tag policies and repositories are validated with their field path", () => {
  const base = { apiVersion: "baton.dev/v1alpha1", kind: "Pipeline" };
  const env = (imageWatch: unknown) => ({ ...base, environments: [{ name: "testing", path: "environments/testing", imageWatch }] });
  const ok = parsePipeline(env({ images: [{ repository: "ghcr.io/acme/web", tags: { semver: "^1" } }] }));
  assert.equal(ok.environments[0]?.imageWatch?.mode, "pr");
  const problems = (value: unknown) => {
    try {
      parsePipeline(value);
      return [];
    } catch (e) {
      return (e as { errors: BatonError[] }).errors.map((x) => `${x.field}: ${x.message}`);
    }
  };
  assert.match(problems(env({ images: [{ repository: "ghcr.io/acme/web", tags: { semver: "one point oh" } }] })).join("\n"), /environments\[0\]\.imageWatch\.images\[0\]\.tags/);
  assert.match(problems(env({ images: [{ repository: "ghcr.io/acme/web:1.0", tags: { semver: "^1" } }] })).join("\n"), /images\[0\]\.repository: .*without tag or digest/);
  assert.match(problems(env({ images: [{ repository: "ghcr.io/acme/web", tags: { pattern: "(" } }] })).join("\n"), /tags/);
  assert.match(problems(env({ mode: "sometimes", images: [] })).join("\n"), /imageWatch\.mode/);
});

/** A scripted registry: each call answers the next response for its path; every request is recorded. */
function scripted(routes: Record<string, Array<() => Response>>) {
  const seen: Array<{ url: string; method: string; authorization?: string }> = [];
  const fetchFn = (async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(String(input));
    const headers = (init?.headers ?? {}) as Record<string, string>;
    seen.push({ url: url.pathname + url.search, method: init?.method ?? "GET", ...(headers.authorization ? { authorization: headers.authorization } : {}) });
    const queue = routes[url.pathname];
    const next = queue && queue.length > 1 ? queue.shift() : queue?.[0];
    return next ? next() : new Response("{}", { status: 404 });
  }) as typeof fetch;
  return { fetchFn, seen };
}

test("429: waits for Retry-After, then gives up with REGISTRY_RATE_LIMITED when the wait is too long", async () => {
  const tags = () => new Response(JSON.stringify({ name: "acme/web", tags: ["1.0.0"] }), { status: 200 });
  const limited = (after: string) => () => new Response("{}", { status: 429, headers: { "retry-after": after } });
  const { fetchFn, seen } = scripted({ "/v2/acme/web/tags/list": [limited("2"), tags] });
  const waits: number[] = [];
  const client = new RegistryClient({ fetch: fetchFn, sleep: async (ms) => { waits.push(ms); } });
  assert.deepEqual(await client.listTags("ghcr.io/acme/web"), ["1.0.0"]);
  assert.deepEqual(waits, [2000]);
  assert.equal(seen.length, 2);
  const slow = scripted({ "/v2/acme/web/tags/list": [limited("3600")] });
  const slowWaits: number[] = [];
  await assert.rejects(new RegistryClient({ fetch: slow.fetchFn, sleep: async (ms) => { slowWaits.push(ms); } }).listTags("ghcr.io/acme/web"),
    (e: unknown) => isCode("REGISTRY_RATE_LIMITED")(e) && /retry after 3600s/.test((e as Error).message));
  assert.deepEqual(slowWaits, []);
});

test("bearer token flow with docker config credentials, Link pagination, and a 401 that names what to do", async () => {
  const challenge = () => new Response("{}", { status: 401, headers: { "www-authenticate": 'Bearer realm="https://auth.example/token",service="reg"' } });
  const page1 = () => new Response(JSON.stringify({ tags: ["a", "b"] }), { status: 200, headers: { link: '</v2/acme/web/tags/list?n=2&last=b>; rel="next"' } });
  const page2 = () => new Response(JSON.stringify({ tags: ["c"] }), { status: 200 });
  const { fetchFn, seen } = scripted({
    "/v2/acme/web/tags/list": [challenge, page1, page2],
    "/token": [() => new Response(JSON.stringify({ token: "bearer-token-xyz" }), { status: 200 })],
  });
  const credentials = () => ({ kind: "basic" as const, username: "bot", password: "pw-123456" });
  const client = new RegistryClient({ fetch: fetchFn, credentials });
  assert.deepEqual(await client.listTags("ghcr.io/acme/web"), ["a", "b", "c"]);
  assert.deepEqual(seen.map((s) => [s.url, s.authorization]), [
    ["/v2/acme/web/tags/list?n=1000", undefined],
    ["/token?service=reg&scope=repository%3Aacme%2Fweb%3Apull", `Basic ${Buffer.from("bot:pw-123456").toString("base64")}`],
    ["/v2/acme/web/tags/list?n=1000", "Bearer bearer-token-xyz"],
    ["/v2/acme/web/tags/list?n=2&last=b", "Bearer bearer-token-xyz"],
  ]);
  // An http token endpoint off loopback never receives credentials.
  const plain = scripted({ "/v2/acme/web/tags/list": [() => new Response("{}", { status: 401, headers: { "www-authenticate": 'Bearer realm="http://auth.example/token"' } })] });
  await assert.rejects(new RegistryClient({ fetch: plain.fetchFn, credentials }).listTags("ghcr.io/acme/web"), (e: unknown) => isCode("REGISTRY_FAILED")(e) && /not https/.test((e as Error).message));
  assert.equal(plain.seen.length, 1);
  const denied = scripted({ "/v2/acme/web/tags/list": [() => new Response("{}", { status: 401 })] });
  await assert.rejects(new RegistryClient({ fetch: denied.fetchFn }).listTags("ghcr.io/acme/web"), (e: unknown) => isCode("REGISTRY_UNAUTHORIZED")(e) && /without credentials/.test((e as Error).message) && /docker config/.test((e as BatonError).hint ?? ""));
});

test("provenance line: tags, platforms, build time and a linked revision", () => {
  const line = provenanceLine({ repository: "ghcr.io/acme/web", digest: D("a"), tags: ["1.2.0", "latest"], created: "2026-11-27T10:00:00Z", revision: "0123456789abcdef0123456789abcdef01234567", source: "https://github.com/acme/web", platforms: ["linux/amd64", "linux/arm64"] });
  assert.equal(line, "`ghcr.io/acme/web@sha256:aaaaaaaaaaaa…`; tags `1.2.0`, `latest`; multi-arch index (linux/amd64, linux/arm64); created 2026-11-27T10:00:00Z; revision [0123456789ab](https://github.com/acme/web/commit/0123456789abcdef0123456789abcdef01234567)");
  assert.match(provenanceLine({ repository: "r/web", digest: D("b"), tags: [] }), /no checked tag points at it; no creation time; no org\.opencontainers\.image\.revision label$/);
});

test("cosign payloads: the signed digest must be this one and the signature must verify with a listed key", () => {
  const key = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  const other = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  const keys = [parsePublicKey(key.publicKey.export({ type: "spki", format: "pem" }).toString(), "keys/cosign.pub")];
  const payload = Buffer.from(JSON.stringify({ critical: { identity: { "docker-reference": "r/web" }, image: { "docker-manifest-digest": D("a") }, type: "cosign container image signature" }, optional: null }));
  const sig = (k: KeyObject) => sign("sha256", payload, k).toString("base64");
  assert.deepEqual(checkPayload(payload, sig(key.privateKey), D("a"), keys), { ok: true, key: "keys/cosign.pub" });
  assert.deepEqual(checkPayload(payload, sig(other.privateKey), D("a"), keys), { ok: false, reason: "no signature verifies with keys/cosign.pub" });
  assert.deepEqual(checkPayload(payload, sig(key.privateKey), D("b"), keys), { ok: false, reason: `a signature signs ${D("a")}, not this digest` });
  assert.equal(checkPayload(Buffer.from("{}"), sig(key.privateKey), D("a"), keys).ok, false);
  assert.equal(signatureTag(D("a")), `sha256-${"a".repeat(64)}.sig`);
  assert.throws(() => parsePublicKey("-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----\n", "keys/bad.pub"), (e: unknown) => isCode("SIGNATURE_KEY_INVALID")(e) && (e as BatonError).file === "keys/bad.pub");
});
