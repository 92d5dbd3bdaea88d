/**
 * A real git smart-HTTP server for tests: `git http-backend` (CGI) behind a small Node HTTP server on a
 * free loopback port, with optional basic auth. isomorphic-git and simple-git fetch and push to it
 * exactly as to GitHub. `stop()` and `start()` again (same port) simulate an outage.
 */
import { spawn, execFileSync } from "node:child_process";
import { promises as fs } from "node:fs";
import http from "node:http";
import type { Socket } from "node:net";
import os from "node:os";
import path from "node:path";

/**
 * The http-backend program itself, from git's exec path: `git http-backend` would start a `git` process only
 * to start this one, a third process per request on top of the upload-pack it runs.
 */
let httpBackendPath: string | undefined;
function httpBackend(): string {
  httpBackendPath ??= path.join(execFileSync("git", ["--exec-path"], { encoding: "utf8" }).trim(), "git-http-backend");
  return httpBackendPath;
}

export interface GitServerOptions {
  auth?: { username: string; password: string };
}

export class GitServer {
  readonly root: string;
  private server?: http.Server;
  port = 0;
  /**
   * Every request served, for tests that count round trips. A protocol-v2 request (isomorphic-git's
   * ls-remote: GET info/refs, then POST git-upload-pack with `ls-refs`) ends in " v2"; a POST
   * git-upload-pack without it is a pack download (a fetch or clone).
   */
  readonly requests: string[] = [];
  /** When each of `requests` arrived (performance.now(), same index): tests count requests per interval. */
  readonly requestTimes: number[] = [];
  /** Requests being served now, and the most ever served at once (tests of bounded concurrency). */
  inFlight = 0;
  peakInFlight = 0;
  /**
   * Protocol-v2 `info/refs` answers per repository path. In v2 that answer is the server's capability list
   * only (the refs come with the `ls-refs` POST that follows), the same bytes for every request to a repo,
   * so it is replayed instead of spawning http-backend and upload-pack again: the suite's agents ask it
   * thousands of times, and each answer from git costs an http-backend and an upload-pack process.
   */
  /** Connections accepted, and requests answered with a TCP reset because they came on a connection from before a restart(). */
  connections = 0;
  resets = 0;
  private readonly sockets = new Set<Socket>();
  private readonly forgotten = new WeakSet<Socket>();
  private readonly v2Advertisements = new Map<string, { status: number; headers: Record<string, string>; body: Buffer }>();

  private constructor(root: string, private readonly options: GitServerOptions) {
    this.root = root;
  }

  static async create(options: GitServerOptions = {}): Promise<GitServer> {
    const root = await fs.mkdtemp(path.join(os.tmpdir(), "baton-git-"));
    const server = new GitServer(root, options);
    await server.start();
    return server;
  }

  url(repo: string): string {
    return `http://127.0.0.1:${this.port}/${repo}.git`;
  }

  /** URL with the basic-auth credentials embedded (for git CLI clones in tests). */
  authUrl(repo: string): string {
    const a = this.options.auth;
    return a ? `http://${encodeURIComponent(a.username)}:${encodeURIComponent(a.password)}@127.0.0.1:${this.port}/${repo}.git` : this.url(repo);
  }

  /** Creates a bare repository `name.git` with HEAD on `branch`. */
  async createRepo(name: string, branch = "main"): Promise<string> {
    const dir = path.join(this.root, `${name}.git`);
    execFileSync("git", ["init", "--bare", "--quiet", `--initial-branch=${branch}`, dir]);
    execFileSync("git", ["-C", dir, "config", "http.receivepack", "true"]);
    return dir;
  }

  async start(port = this.port): Promise<void> {
    const server = http.createServer((req, res) => this.handle(req, res));
    server.on("connection", (socket: Socket) => {
      this.connections++;
      this.sockets.add(socket);
      socket.once("close", () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => resolve());
    });
    const address = server.address();
    this.port = typeof address === "object" && address ? address.port : port;
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /**
   * A restart as a client's kept-alive connections meet it: the restarted server no longer knows the
   * connections from before, so the next request on one is answered with a TCP reset before any response
   * byte (what a client sees when it sends on a pooled connection before reading the old process's close,
   * or after the server's host restarted). stop() and start() close them first, which a client usually,
   * but not always, notices before its next request.
   */
  restart(): void {
    for (const socket of this.sockets) this.forgotten.add(socket);
  }

  async destroy(): Promise<void> {
    await this.stop();
    await fs.rm(this.root, { recursive: true, force: true });
  }

  private authorized(req: http.IncomingMessage): string | undefined {
    const auth = this.options.auth;
    if (!auth) return "anonymous";
    const header = req.headers.authorization ?? "";
    if (!header.startsWith("Basic ")) return undefined;
    const [user, ...rest] = Buffer.from(header.slice(6), "base64").toString().split(":");
    return user === auth.username && rest.join(":") === auth.password ? user : undefined;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    if (this.forgotten.has(req.socket)) {
      this.resets++;
      req.socket.resetAndDestroy();
      return;
    }
    const url = new URL(req.url ?? "/", "http://localhost");
    this.requestTimes.push(performance.now());
    this.requests.push(`${req.method} ${url.pathname}${url.search}${String(req.headers["git-protocol"] ?? "").includes("version=2") ? " v2" : ""}`);
    this.inFlight++;
    this.peakInFlight = Math.max(this.peakInFlight, this.inFlight);
    res.once("close", () => this.inFlight--);
    const user = this.authorized(req);
    if (!user) {
      res.writeHead(401, { "WWW-Authenticate": 'Basic realm="baton-test"' }).end("authentication required\n");
      return;
    }
    const protocol = String(req.headers["git-protocol"] ?? "");
    const v2Advertisement = req.method === "GET" && url.pathname.endsWith("/info/refs") && url.searchParams.get("service") === "git-upload-pack" && protocol.includes("version=2")
      ? url.pathname : undefined;
    const replay = v2Advertisement === undefined ? undefined : this.v2Advertisements.get(v2Advertisement);
    if (replay) {
      res.writeHead(replay.status, replay.headers).end(replay.body);
      return;
    }
    const recorded: Buffer[] = [];
    let recordedStatus = 0;
    let recordedHeaders: Record<string, string> = {};
    const cgi = spawn(httpBackend(), [], {
      env: {
        ...process.env,
        GIT_PROJECT_ROOT: this.root,
        GIT_HTTP_EXPORT_ALL: "1",
        PATH_INFO: decodeURIComponent(url.pathname),
        QUERY_STRING: url.search.slice(1),
        REQUEST_METHOD: req.method ?? "GET",
        CONTENT_TYPE: req.headers["content-type"] ?? "",
        HTTP_CONTENT_ENCODING: String(req.headers["content-encoding"] ?? ""),
        GIT_PROTOCOL: protocol,
        REMOTE_USER: user,
        REMOTE_ADDR: "127.0.0.1",
      },
    });
    req.pipe(cgi.stdin);
    let head = Buffer.alloc(0);
    let headersSent = false;
    cgi.stdout.on("data", (chunk: Buffer) => {
      if (headersSent) {
        if (v2Advertisement !== undefined) recorded.push(chunk);
        res.write(chunk);
        return;
      }
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf("\r\n\r\n");
      if (end === -1) return;
      let status = 200;
      const headers: Record<string, string> = {};
      for (const line of head.subarray(0, end).toString().split("\r\n")) {
        const colon = line.indexOf(":");
        const key = line.slice(0, colon).trim();
        const value = line.slice(colon + 1).trim();
        if (key.toLowerCase() === "status") status = Number.parseInt(value, 10);
        else headers[key] = value;
      }
      res.writeHead(status, headers);
      headersSent = true;
      recordedStatus = status;
      recordedHeaders = headers;
      recorded.push(head.subarray(end + 4));
      res.write(head.subarray(end + 4));
    });
    cgi.stderr.on("data", () => undefined);
    cgi.on("close", (code) => {
      if (!headersSent) res.writeHead(500).end("git http-backend failed\n");
      else res.end();
      if (v2Advertisement !== undefined && code === 0 && recordedStatus === 200) {
        this.v2Advertisements.set(v2Advertisement, { status: recordedStatus, headers: recordedHeaders, body: Buffer.concat(recorded) });
      }
    });
  }
}
