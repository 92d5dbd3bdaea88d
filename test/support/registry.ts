/**
 * A real OCI registry for tests: go-containerregistry's `registry` (in memory) on a free loopback port,
 * built by test/cluster/build.sh with `crane`. Images, indexes and cosign-style signatures are pushed
 * through the distribution API (blobs by monolithic upload, then the manifest), so tests choose configs,
 * labels and annotations exactly; `crane` is there for what a CI job would do with it (tag, digest).
 * `RegistryGate` stands in front of it for what the in-memory registry has no switch for: token auth and 429s.
 */
import { execFile } from "node:child_process";
import { createHash, sign, type KeyObject } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { freePort, startProcess, stopProcess, waitFor, type Managed } from "./processes.js";

const exec = promisify(execFile);
const sha256 = (b: Buffer | string) => `sha256:${createHash("sha256").update(b).digest("hex")}`;

export const OCI = {
  manifest: "application/vnd.oci.image.manifest.v1+json",
  index: "application/vnd.oci.image.index.v1+json",
  config: "application/vnd.oci.image.config.v1+json",
  layer: "application/vnd.oci.image.layer.v1.tar+gzip",
  simpleSigning: "application/vnd.dev.cosign.simplesigning.v1+json",
} as const;

export interface ImageSpec {
  /** Makes the image (and its digest) unique. */
  content: string;
  created?: string;
  labels?: Record<string, string>;
  platform?: { os: string; architecture: string };
}

function binary(name: string): string {
  const bin = process.env.BATON_TEST_BIN;
  if (!bin) throw new Error("BATON_TEST_BIN is not set: run integration tests through test/run.ts");
  return path.join(bin, name);
}

export class TestRegistry {
  private constructor(readonly host: string, private readonly process: Managed) {}

  static async start(): Promise<TestRegistry> {
    const port = await freePort();
    const dir = mkdtempSync(path.join(os.tmpdir(), "baton-registry-"));
    const p = startProcess("registry", binary("registry"), ["-port", String(port)], path.join(dir, "registry.log"));
    const host = `127.0.0.1:${port}`;
    await waitFor("the registry to serve /v2/", async () => ((await fetch(`http://${host}/v2/`)).ok ? true : undefined), 15_000, 100);
    return new TestRegistry(host, p);
  }

  async stop(): Promise<void> {
    await stopProcess(this.process);
  }

  /** `host/name`, the repository as Baton and crane name it. */
  repo(name: string): string {
    return `${this.host}/${name}`;
  }

  async crane(...args: string[]): Promise<string> {
    return (await exec(binary("crane"), ["--insecure", ...args], { encoding: "utf8" })).stdout.trim();
  }

  /**
   * `helm package` a chart folder and `helm push` it to oci://<host>/<under> as a user's CI would; returns
   * the manifest digest helm prints (what baton.yaml pins).
   */
  async pushChart(chartDir: string, under: string): Promise<string> {
    const home = mkdtempSync(path.join(os.tmpdir(), "baton-helm-push-"));
    const env = { PATH: process.env.PATH ?? "", HOME: home, HELM_CACHE_HOME: path.join(home, "cache"), HELM_CONFIG_HOME: path.join(home, "config"), HELM_DATA_HOME: path.join(home, "data") };
    try {
      const packaged = (await exec(binary("helm"), ["package", chartDir, "--destination", home], { env, encoding: "utf8" })).stdout;
      const tgz = /saved it to: (\S+)/.exec(packaged)?.[1];
      if (!tgz) throw new Error(`helm package printed no archive: ${packaged}`);
      const pushed = await exec(binary("helm"), ["push", tgz, `oci://${this.host}/${under}`, "--plain-http"], { env, encoding: "utf8" });
      const digest = /Digest: (sha256:[a-f0-9]{64})/.exec(pushed.stdout + pushed.stderr)?.[1];
      if (!digest) throw new Error(`helm push printed no digest: ${pushed.stdout}${pushed.stderr}`);
      return digest;
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  }

  async pushBlob(name: string, body: Buffer): Promise<string> {
    const digest = sha256(body);
    const res = await fetch(`http://${this.host}/v2/${name}/blobs/uploads/?digest=${digest}`, { method: "POST", body, headers: { "content-type": "application/octet-stream" } });
    if (res.status !== 201) throw new Error(`blob upload failed: HTTP ${res.status} ${await res.text()}`);
    return digest;
  }

  /** PUTs a manifest body as given (also a malformed one) under `reference`; returns the body's digest. */
  async pushManifest(name: string, reference: string, body: string, mediaType: string): Promise<string> {
    const res = await fetch(`http://${this.host}/v2/${name}/manifests/${reference}`, { method: "PUT", body, headers: { "content-type": mediaType } });
    if (res.status !== 201) throw new Error(`manifest push failed: HTTP ${res.status} ${await res.text()}`);
    return sha256(body);
  }

  /** A one-layer image tagged `tag`; returns its manifest digest. */
  async pushImage(name: string, tag: string, spec: ImageSpec): Promise<string> {
    const layer = Buffer.from(spec.content);
    const layerDigest = await this.pushBlob(name, layer);
    const config = Buffer.from(JSON.stringify({
      architecture: spec.platform?.architecture ?? "amd64", os: spec.platform?.os ?? "linux",
      ...(spec.created ? { created: spec.created } : {}),
      config: { Labels: spec.labels ?? {} },
      rootfs: { type: "layers", diff_ids: [sha256(layer)] },
    }));
    const configDigest = await this.pushBlob(name, config);
    const manifest = JSON.stringify({
      schemaVersion: 2, mediaType: OCI.manifest,
      config: { mediaType: OCI.config, digest: configDigest, size: config.length },
      layers: [{ mediaType: OCI.layer, digest: layerDigest, size: layer.length }],
    });
    return this.pushManifest(name, tag, manifest, OCI.manifest);
  }

  /** A multi-arch index of already pushed images, tagged `tag`; returns the index digest. */
  async pushIndex(name: string, tag: string, images: Array<{ digest: string; os: string; architecture: string }>): Promise<string> {
    const manifests = await Promise.all(images.map(async (i) => {
      const res = await fetch(`http://${this.host}/v2/${name}/manifests/${i.digest}`, { headers: { accept: OCI.manifest } });
      const size = (await res.arrayBuffer()).byteLength;
      return { mediaType: OCI.manifest, digest: i.digest, size, platform: { os: i.os, architecture: i.architecture } };
    }));
    return this.pushManifest(name, tag, JSON.stringify({ schemaVersion: 2, mediaType: OCI.index, manifests }), OCI.index);
  }

  /**
   * Signs `digest` the way `cosign sign --key` does: a simple-signing payload naming the digest, an ECDSA
   * P-256 signature over it in the layer's `dev.cosignproject.cosign/signature` annotation, all in a
   * manifest tagged `sha256-<hex>.sig`. `payloadDigest` signs a different digest than the tag names (a
   * signature moved onto another image).
   */
  async sign(name: string, digest: string, key: KeyObject, options: { payloadDigest?: string } = {}): Promise<void> {
    const payload = Buffer.from(JSON.stringify({
      critical: { identity: { "docker-reference": this.repo(name) }, image: { "docker-manifest-digest": options.payloadDigest ?? digest }, type: "cosign container image signature" },
      optional: null,
    }));
    const signature = sign("sha256", payload, key).toString("base64");
    const payloadDigest = await this.pushBlob(name, payload);
    const config = Buffer.from(JSON.stringify({ architecture: "", os: "", config: {}, rootfs: { type: "layers", diff_ids: [payloadDigest] } }));
    const configDigest = await this.pushBlob(name, config);
    const manifest = JSON.stringify({
      schemaVersion: 2, mediaType: OCI.manifest,
      config: { mediaType: OCI.config, digest: configDigest, size: config.length },
      layers: [{ mediaType: OCI.simpleSigning, digest: payloadDigest, size: payload.length, annotations: { "dev.cosignproject.cosign/signature": signature } }],
    });
    await this.pushManifest(name, `${digest.replace(":", "-")}.sig`, manifest, OCI.manifest);
  }
}

/**
 * A gate in front of the test registry: Docker-style token auth (401 with a Bearer challenge; /token
 * exchanges Basic credentials for a token) and injected `429 Too Many Requests` with `Retry-After`.
 * It forwards everything else unchanged and records each request (method, path, when).
 */
export class RegistryGate {
  readonly requests: Array<{ method: string; path: string; at: number; authorization?: string }> = [];
  /** The next N registry requests are answered 429 with this Retry-After (seconds). */
  rateLimit = { remaining: 0, retryAfter: "1" };
  private readonly token = `tok-${createHash("sha256").update(String(Math.random())).digest("hex").slice(0, 24)}`;

  private constructor(private readonly server: http.Server, readonly host: string, private readonly upstream: string, private readonly user?: { username: string; password: string }) {}

  static async start(upstream: TestRegistry, user?: { username: string; password: string }): Promise<RegistryGate> {
    const holder: { gate?: RegistryGate } = {};
    const server = http.createServer((req, res) => { void holder.gate?.handle(req, res); });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
    const address = server.address();
    const port = typeof address === "object" && address ? address.port : 0;
    const gate = new RegistryGate(server, `127.0.0.1:${port}`, upstream.host, user);
    holder.gate = gate;
    return gate;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", `http://${this.host}`);
    this.requests.push({ method: req.method ?? "GET", path: url.pathname + url.search, at: performance.now(), ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}) });
    if (url.pathname === "/token") {
      const expected = this.user ? `Basic ${Buffer.from(`${this.user.username}:${this.user.password}`).toString("base64")}` : undefined;
      if (expected && req.headers.authorization !== expected) {
        res.writeHead(401, { "content-type": "application/json" }).end(JSON.stringify({ errors: [{ code: "UNAUTHORIZED" }] }));
        return;
      }
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ token: this.token }));
      return;
    }
    if (this.user && req.headers.authorization !== `Bearer ${this.token}`) {
      res.writeHead(401, {
        "www-authenticate": `Bearer realm="http://${this.host}/token",service="test-registry",scope="repository:x:pull"`,
        "content-type": "application/json",
      }).end(JSON.stringify({ errors: [{ code: "UNAUTHORIZED", message: "authentication required" }] }));
      return;
    }
    if (this.rateLimit.remaining > 0) {
      this.rateLimit.remaining--;
      res.writeHead(429, { "retry-after": this.rateLimit.retryAfter, "content-type": "application/json" }).end(JSON.stringify({ errors: [{ code: "TOOMANYREQUESTS" }] }));
      return;
    }
    const upstream = await fetch(`http://${this.upstream}${url.pathname}${url.search}`, { method: req.method ?? "GET", headers: { accept: req.headers.accept ?? "*/*" } });
    const headers: Record<string, string> = {};
    upstream.headers.forEach((v, k) => { if (k !== "content-encoding" && k !== "transfer-encoding" && k !== "connection") headers[k] = v; });
    res.writeHead(upstream.status, headers).end(Buffer.from(await upstream.arrayBuffer()));
  }
}
