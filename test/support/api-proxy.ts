/**
 * A proxy between one agent and the test's kube-apiserver that counts what the agent sends and can cut
 * it off. It terminates TLS with the API server's own serving certificate (so the agent's kubeconfig only
 * changes its server URL), forwards every request unchanged, and records each one it forwards.
 * `pause()` is a network partition: requests are held, not answered. `resume()` forwards the held
 * requests whose sender is still waiting and drops the ones it cancelled, so a test can prove that
 * nothing a deposed leader sent during the partition lands afterwards. `hold(matches)` holds only the
 * requests it selects (e.g. Event writes), the same way, until `resume()`.
 */
import { promises as fs } from "node:fs";
import type http from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import path from "node:path";
import type { ClusterCredentials } from "../../src/kube/credentials.js";
import { parse, stringify } from "yaml";
import { testKubeConfig, testKubeConfigFile } from "./testenv.js";

export interface ForwardedRequest {
  method: string;
  path: string;
  userAgent: string;
  /** Monotonic time it was forwarded (performance.now). */
  at: number;
}

interface Held {
  req: http.IncomingMessage;
  res: http.ServerResponse;
  body: Buffer;
  cancelled: boolean;
}

export class ApiProxy {
  readonly forwarded: ForwardedRequest[] = [];
  /** Requests held during a pause that their sender cancelled before the pause ended. */
  dropped = 0;
  private paused = false;
  private holding: ((method: string, path: string) => boolean) | undefined;
  private held: Held[] = [];

  private constructor(private readonly server: https.Server, private readonly upstream: URL, private readonly ca: Buffer) {}

  static async start(): Promise<ApiProxy> {
    const dir = process.env.BATON_TEST_CLUSTER_DIR;
    if (!dir) throw new Error("BATON_TEST_CLUSTER_DIR is not set: run integration tests through `npm test`");
    const [cert, key] = await Promise.all([fs.readFile(path.join(dir, "certs/apiserver.crt")), fs.readFile(path.join(dir, "certs/apiserver.key"))]);
    const upstream = new URL(testKubeConfig().server);
    const server = https.createServer({ cert, key });
    const proxy = new ApiProxy(server, upstream, cert);
    server.on("request", (req: http.IncomingMessage, res: http.ServerResponse) => proxy.receive(req, res));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return proxy;
  }

  get url(): string {
    return `https://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** The test's kubeconfig pointed at this proxy. */
  kubeConfig(): ClusterCredentials {
    const base = testKubeConfig();
    return { server: this.url, requestOptions: () => base.requestOptions() };
  }

  /** The test's kubeconfig file, every cluster pointed at this proxy: for an agent run as a child process. */
  async kubeconfigText(): Promise<string> {
    const config = parse(await fs.readFile(testKubeConfigFile(), "utf8")) as { clusters: { cluster: { server: string } }[] };
    for (const c of config.clusters) c.cluster.server = this.url;
    return stringify(config);
  }

  writes(since = 0): ForwardedRequest[] {
    return this.forwarded.filter((r) => r.at >= since && !["GET", "HEAD"].includes(r.method));
  }

  pause(): void {
    this.paused = true;
  }

  /** Holds the requests `matches` selects, as pause() holds all; resume() forwards them. */
  hold(matches: (method: string, path: string) => boolean): void {
    this.holding = matches;
  }

  resume(): void {
    this.paused = false;
    this.holding = undefined;
    const held = this.held;
    this.held = [];
    for (const h of held) {
      if (h.cancelled) this.dropped++;
      else this.forward(h);
    }
  }

  async stop(): Promise<void> {
    this.resume();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private receive(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const h: Held = { req, res, body: Buffer.concat(chunks), cancelled: false };
      res.on("close", () => {
        if (!res.writableFinished) h.cancelled = true;
      });
      if (this.paused || this.holding?.(req.method ?? "", req.url ?? "")) this.held.push(h);
      else this.forward(h);
    });
  }

  private forward(h: Held): void {
    const { req, res, body } = h;
    this.forwarded.push({ method: req.method ?? "", path: req.url ?? "", userAgent: String(req.headers["user-agent"] ?? ""), at: performance.now() });
    const upstream = https.request({
      hostname: this.upstream.hostname, port: this.upstream.port, method: req.method, path: req.url, headers: { ...req.headers, host: this.upstream.host }, ca: this.ca,
    }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on("error", () => res.destroy());
    res.on("close", () => upstream.destroy());
    upstream.end(body);
  }
}
