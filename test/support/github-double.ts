/**
 * A small in-memory stand-in for the GitHub REST endpoints Baton calls (pulls, issue comments and labels,
 * commit statuses, deployments), on a loopback port. Baton reaches it through octokit with a custom
 * baseUrl, exactly as it reaches GitHub Enterprise. Records every request for assertions.
 */
import { createVerify, randomBytes } from "node:crypto";
import http from "node:http";
import { connectGitHub } from "../../src/github/connect.js";
import type { GitHubApi } from "../../src/github/api.js";
import { validateExchange } from "./openapi.js";

export interface DoublePull {
  number: number;
  title: string;
  body: string;
  head: string;
  base: string;
  state: "open" | "closed";
  labels: string[];
  comments: string[];
}

interface DoubleDeployment { id: number; sha: string; ref: string; environment: string; created_at: string; statuses: Array<{ state: string; description: string; created_at: string }> }

export class GitHubDouble {
  readonly pulls: DoublePull[] = [];
  readonly statuses: Array<{ sha: string; state: string; context: string; description: string }> = [];
  readonly deployments: DoubleDeployment[] = [];
  readonly requests: string[] = [];
  /** Every mismatch with GitHub's OpenAPI description, in requests Baton sent or responses the double gave. */
  readonly violations: string[] = [];
  /** owner/name of every repository addressed. */
  readonly repositories = new Set<string>();
  /** Set to make every request fail with this HTTP status (outage / permission tests). */
  failWith?: number;
  private server?: http.Server;
  port = 0;

  constructor(readonly owner = "acme", readonly repo = "config", readonly token = "test-token") {}

  static async start(): Promise<GitHubDouble> {
    const d = new GitHubDouble();
    d.server = http.createServer((req, res) => void d.handle(req, res));
    await new Promise<void>((resolve) => d.server?.listen(0, "127.0.0.1", () => resolve()));
    const a = d.server.address();
    d.port = typeof a === "object" && a ? a.port : 0;
    return d;
  }

  /**
   * Baton's GitHub client for this stand-in, wired like the CLI: owner/repo from the clone's origin
   * remote, the token from the environment, an Enterprise-style baseUrl.
   */
  readonly connect = (remoteUrl: string | undefined): GitHubApi =>
    connectGitHub({ url: this.baseUrl, ...(remoteUrl ? { remoteUrl } : {}), env: { GITHUB_TOKEN: this.token } });

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}/api/v3`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }

  /** What GitHub does to a PR when the tests merge its branch with git. */
  markMerged(number: number): void {
    const p = this.pulls.find((x) => x.number === number);
    if (!p) throw new Error(`no pull #${number}`);
    p.state = "closed";
  }

  private pullJson(p: DoublePull): Record<string, unknown> {
    return {
      number: p.number, id: p.number, title: p.title, body: p.body, state: p.state,
      html_url: `https://github.example/${this.owner}/${this.repo}/pull/${p.number}`,
      head: { ref: p.head, label: `${this.owner}:${p.head}` }, base: { ref: p.base },
      labels: p.labels.map((name) => ({ name })),
    };
  }

  private app?: { appId: number; installationId: number; publicKey: string; installationToken: string };

  /** Accept GitHub App authentication for this app (JWTs verified with `publicKey`). */
  enableApp(appId: number, installationId: number, publicKey: string): void {
    this.app = { appId, installationId, publicKey, installationToken: `ghs_${randomBytes(12).toString("hex")}` };
  }

  private validJwt(header: string | undefined): boolean {
    const jwt = header?.replace(/^bearer /i, "") ?? "";
    const [head, payload, signature] = jwt.split(".");
    if (!this.app || !head || !payload || !signature) return false;
    const ok = createVerify("RSA-SHA256").update(`${head}.${payload}`).verify(this.app.publicKey, Buffer.from(signature, "base64url"));
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString()) as { iss?: number | string; exp?: number };
    return ok && Number(claims.iss) === this.app.appId && (claims.exp ?? 0) * 1000 > Date.now();
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const rawBody = chunks.length ? (JSON.parse(Buffer.concat(chunks).toString()) as unknown) : undefined;
    const body = (rawBody ?? {}) as Record<string, unknown>;
    const url = new URL(req.url ?? "/", "http://x");
    const method = req.method ?? "GET";
    this.requests.push(`${method} ${url.pathname}${url.search}`);
    const send = (status: number, value: unknown): void => {
      if (status !== 401 && status !== this.failWith) {
        this.violations.push(...validateExchange({ method, path: url.pathname.replace(/^\/api\/v3/, ""), query: url.searchParams, body: rawBody, status, response: value }));
      }
      res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(value));
    };
    // GitHub App: a JWT signed with the app's private key buys an installation token.
    const appRoute = /^\/api\/v3\/app\/installations\/(\d+)\/access_tokens$/.exec(url.pathname);
    if (appRoute && method === "POST") {
      if (!this.app || Number(appRoute[1]) !== this.app.installationId || !this.validJwt(req.headers.authorization)) return send(401, { message: "A JSON web token could not be decoded" });
      return send(201, { token: this.app.installationToken, expires_at: new Date(Date.now() + 3600_000).toISOString() });
    }
    const auth = req.headers.authorization;
    if (auth !== `token ${this.token}` && !(this.app && auth === `token ${this.app.installationToken}`)) return send(401, { message: "Bad credentials" });
    if (this.failWith) return send(this.failWith, { message: "injected failure" });
    // One in-memory repository, whatever owner/name the client derived (each test seeds its own git repo).
    const prefix = /^\/api\/v3\/repos\/[\w.-]+\/[\w.-]+/.exec(url.pathname)?.[0];
    if (!prefix) return send(404, { message: "Not Found" });
    this.repositories.add(prefix.slice("/api/v3/repos/".length));
    const route = `${method} ${url.pathname.slice(prefix.length)}`;
    let m: RegExpExecArray | null;
    if (route === "GET /pulls") {
      const state = url.searchParams.get("state") ?? "open";
      const head = url.searchParams.get("head");
      return send(200, this.pulls.filter((p) => (state === "all" || p.state === state) && (!head || `${this.owner}:${p.head}` === head)).map((p) => this.pullJson(p)));
    }
    if (route === "POST /pulls") {
      const head = String(body.head);
      // Like GitHub: one open PR per head branch.
      if (this.pulls.some((p) => p.state === "open" && p.head === head)) return send(422, { message: `A pull request already exists for ${this.owner}:${head}.` });
      const p: DoublePull = { number: this.pulls.length + 1, title: String(body.title), body: String(body.body ?? ""), head, base: String(body.base), state: "open", labels: [], comments: [] };
      this.pulls.push(p);
      return send(201, this.pullJson(p));
    }
    if ((m = /^PATCH \/pulls\/(\d+)$/.exec(route))) {
      const p = this.pulls.find((x) => x.number === Number(m?.[1]));
      if (!p) return send(404, { message: "Not Found" });
      if (typeof body.title === "string") p.title = body.title;
      if (typeof body.body === "string") p.body = body.body;
      if (body.state === "closed" || body.state === "open") p.state = body.state;
      return send(200, this.pullJson(p));
    }
    if ((m = /^POST \/issues\/(\d+)\/(comments|labels)$/.exec(route))) {
      const p = this.pulls.find((x) => x.number === Number(m?.[1]));
      if (!p) return send(404, { message: "Not Found" });
      if (m[2] === "comments") {
        p.comments.push(String(body.body));
        return send(201, { id: p.comments.length, body: body.body });
      }
      for (const l of (body.labels as string[] | undefined) ?? []) if (!p.labels.includes(l)) p.labels.push(l);
      return send(200, p.labels.map((name) => ({ name })));
    }
    if ((m = /^POST \/statuses\/([0-9a-f]{40})$/.exec(route))) {
      this.statuses.push({ sha: m[1] ?? "", state: String(body.state), context: String(body.context), description: String(body.description ?? "") });
      return send(201, { state: body.state, context: body.context });
    }
    if (route === "POST /deployments") {
      const d: DoubleDeployment = { id: this.deployments.length + 1, sha: String(body.ref), ref: String(body.ref), environment: String(body.environment), created_at: new Date().toISOString(), statuses: [] };
      this.deployments.push(d);
      return send(201, { ...d, statuses: undefined });
    }
    if (route === "GET /deployments") {
      const env = url.searchParams.get("environment");
      return send(200, this.deployments.filter((d) => !env || d.environment === env).reverse().map((d) => ({ ...d, statuses: undefined })));
    }
    if ((m = /^(POST|GET) \/deployments\/(\d+)\/statuses$/.exec(route))) {
      const d = this.deployments.find((x) => x.id === Number(m?.[2]));
      if (!d) return send(404, { message: "Not Found" });
      if (m[1] === "GET") return send(200, [...d.statuses].reverse());
      const s = { state: String(body.state), description: String(body.description ?? ""), created_at: new Date().toISOString() };
      d.statuses.push(s);
      return send(201, s);
    }
    return send(404, { message: `GitHubDouble does not implement ${route}` });
  }
}
