/**
 * `baton console`'s HTTP server (Node's http; three static files and a small JSON API do not need a
 * framework). Every request passes guard.ts first; the API returns what data.ts computes, and Baton's errors
 * as `{ ok: false, errors: [{ code, message, file, field, hint }] }` — the shape `baton validate -o json` prints.
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { BatonError, BatonErrors } from "../errors.js";
import type { GitHubApi } from "../github/api.js";
import type { Logger } from "../log.js";
import { registerSecret, scrubSecrets } from "../util/secrets.js";
import { loadBoard, loadEnvironment, loadPromotions, type ConsoleSources } from "./data.js";
import { parseAction, runAction } from "./actions.js";
import { CSRF_HEADER, isLoopbackAddress, refusal, TOKEN_COOKIE, type RequestFacts } from "./guard.js";
import { BoardFeed } from "./live.js";
import { GitWorkspace } from "../promote/git-workspace.js";

export interface ConsoleOptions extends ConsoleSources {
  /** Address to listen on: loopback unless the person asked otherwise (and gave a token). */
  host: string;
  /** 0 picks a free port. */
  port: number;
  token?: string;
  log: Logger;
  /** How often the clone is checked for changes while a page listens for live updates. */
  pollMs?: number;
  /** Fast-forward the clone's branch from origin this often (`--pull`): the board follows merges by itself. */
  pullMs?: number;
  /** No actions: the board only (the chart's `console.enabled`, `baton console --read-only`). */
  readOnly?: boolean;
  /** GitHub for actions (the CLI's factory: GITHUB_TOKEN, GITHUB_API_URL); absent, actions that open PRs say so. */
  actionsGitHub?: (remoteUrl: string | undefined) => GitHubApi;
}

/** Action bodies are a few fields; anything bigger is not the console page talking. */
const MAX_BODY = 8 * 1024;

/**
 * One thing at a time on the clone: an action checks out a branch and back, and a board read meanwhile
 * would see the branch's files. Reads and actions queue on the same chain.
 */
export class CloneLock {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(work: () => Promise<T>): Promise<T> {
    const next = this.tail.then(work, work);
    this.tail = next.catch(() => undefined);
    return next;
  }
}

function readBody(req: http.IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        reject(new BatonError("USAGE", `console action body over ${MAX_BODY} bytes`, { hint: "send the fields the console page sends" }));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString("utf8")));
      } catch {
        reject(new BatonError("USAGE", "console action body is not JSON", { hint: "send application/json as the console page does" }));
      }
    });
    req.on("error", reject);
  });
}

export interface RunningConsole {
  url: string;
  port: number;
  close(): Promise<void>;
}

const ASSETS: Record<string, { file: string; type: string }> = {
  "/": { file: "index.html", type: "text/html; charset=utf-8" },
  "/assets/app.js": { file: "app.js", type: "text/javascript; charset=utf-8" },
  "/assets/app.css": { file: "app.css", type: "text/css; charset=utf-8" },
};

/** Served from the package (src/console/assets, copied to dist/console/assets by the build): nothing from a CDN. */
function loadAssets(): Map<string, { body: Buffer; type: string }> {
  const dir = new URL("./assets/", import.meta.url);
  return new Map(Object.entries(ASSETS).map(([route, a]) => [route, { body: readFileSync(new URL(a.file, dir)), type: a.type }]));
}

const SECURITY_HEADERS = {
  "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
  "Cache-Control": "no-store",
};

/** `notFound`: the codes that mean the requested thing does not exist (a 404, not a broken repo). */
function errorBody(e: unknown, notFound: readonly string[]): { status: number; errors: Array<Record<string, string>> } | undefined {
  const errors = e instanceof BatonErrors ? e.errors : e instanceof BatonError ? [e] : undefined;
  if (!errors) return undefined;
  const status = errors.some((x) => notFound.includes(x.code)) ? 404 : errors.some((x) => x.code === "GIT_FAILED" || x.code === "KUBE_FAILED") ? 502 : 422;
  return { status, errors: errors.map((x) => x.toJSON()) };
}

function facts(req: http.IncomingMessage, url: URL): RequestFacts {
  const header = (name: string) => {
    const v = req.headers[name];
    return Array.isArray(v) ? v[0] : v;
  };
  const out: RequestFacts = { method: req.method ?? "GET" };
  const set = (key: Exclude<keyof RequestFacts, "method">, value: string | null | undefined) => {
    if (value !== undefined && value !== null) out[key] = value;
  };
  set("host", header("host"));
  set("origin", header("origin"));
  set("secFetchSite", header("sec-fetch-site"));
  set("csrf", header(CSRF_HEADER));
  set("authorization", header("authorization"));
  set("cookie", header("cookie"));
  set("queryToken", url.searchParams.get("token"));
  return out;
}

export function createConsoleServer(options: ConsoleOptions, port: () => number, feed: BoardFeed, lock: CloneLock): http.Server {
  const assets = loadAssets();
  // Per process: a page gets it from GET /api/session (same-origin only: no CORS) and sends it on actions.
  // Not registered as a secret: the scrubber would blank it in that very answer. It is never logged.
  const csrfToken = randomBytes(24).toString("base64url");
  const loopback = isLoopbackAddress(options.host);
  const send = (res: http.ServerResponse, status: number, body: string | Buffer, type: string, extra: Record<string, string> = {}) => {
    res.writeHead(status, { ...SECURITY_HEADERS, "Content-Type": type, ...extra }).end(body);
  };
  const json = (res: http.ServerResponse, status: number, value: unknown) => send(res, status, scrubSecrets(JSON.stringify(value)), "application/json; charset=utf-8");
  const api = (res: http.ServerResponse, what: string, work: () => Promise<object>, notFound: readonly string[] = []) => {
    work().then((value) => json(res, 200, { ok: true, ...value }), (e: unknown) => {
      const known = errorBody(e, notFound);
      if (known) return json(res, known.status, { ok: false, errors: known.errors });
      options.log.error({ action: "console", what, err: e instanceof Error ? e.message : String(e) }, "console request failed");
      json(res, 500, { ok: false, errors: [{ code: "INTERNAL", message: "internal error: see the console's log", hint: "rerun with BATON_DEBUG=1 and report the log line" }] });
    });
  };

  return http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://console.invalid");
    const request = facts(req, url);
    const refused = refusal(request, { port: port(), loopback, csrfToken, ...(options.token ? { token: options.token } : {}) });
    if (refused) {
      options.log.warn({ action: "console", method: request.method, path: url.pathname, status: refused.status }, refused.reason);
      return json(res, refused.status, { ok: false, errors: [{ code: "FORBIDDEN", message: refused.reason }] });
    }
    if (url.pathname === "/api/actions") {
      if (request.method !== "POST") return json(res, 405, { ok: false, errors: [{ code: "METHOD", message: "actions are POST requests" }] });
      if (options.readOnly) return json(res, 403, { ok: false, errors: [{ code: "READ_ONLY", message: "this console is read-only: it shows the board but changes nothing", hint: "run the command shown on the board with your own credentials, or baton console without --read-only" }] });
      return api(res, "action", async () => {
        const action = parseAction(await readBody(req));
        options.log.info({ action: "console-action", request: action }, "console action");
        const result = await lock.run(() => runAction(action, {
          repo: options.repo, ...(options.actionsGitHub ? { github: options.actionsGitHub } : {}),
          progress: (message) => options.log.debug({ action: "console-action" }, message),
        }));
        feed.poke();
        return { result };
      }, ["PIPELINE_UNKNOWN_ENV"]);
    }
    if (request.method !== "GET" && request.method !== "HEAD") return json(res, 405, { ok: false, errors: [{ code: "METHOD", message: `${request.method} is not supported here` }] });
    // The token arrived in the URL: keep it in an HttpOnly cookie instead, and drop it from the address bar.
    if (request.queryToken !== undefined && options.token) {
      return send(res, 303, "", "text/plain", { Location: url.pathname, "Set-Cookie": `${TOKEN_COOKIE}=${options.token}; HttpOnly; SameSite=Strict; Path=/` });
    }
    const asset = assets.get(url.pathname === "/index.html" ? "/" : url.pathname);
    if (asset) return send(res, 200, asset.body, asset.type);
    if (url.pathname === "/api/events") return feed.subscribe(res, SECURITY_HEADERS);
    if (url.pathname === "/api/session") return json(res, 200, { ok: true, session: { csrfToken, actions: !options.readOnly } });
    if (url.pathname === "/api/promotions") return api(res, "promotions", async () => ({ promotions: (await loadPromotions(options)) ?? null }));
    if (url.pathname === "/api/board") return api(res, "board", async () => ({ board: await lock.run(() => loadBoard(options)) }));
    const env = /^\/api\/environments\/([^/]+)$/.exec(url.pathname)?.[1];
    if (env) return api(res, "environment", async () => ({ environment: await lock.run(() => loadEnvironment(options, decodeURIComponent(env))) }), ["PIPELINE_UNKNOWN_ENV"]);
    return json(res, 404, { ok: false, errors: [{ code: "NOT_FOUND", message: `no ${url.pathname} here` }] });
  });
}

/**
 * `--pull`: every interval, fetch and fast-forward the clone's current branch (under the clone lock, so never
 * while an action has a branch checked out), then let the live feed look. A failed pull (network, a diverged
 * branch, local changes in the way) leaves the clone as it was, so the board keeps showing the last good
 * state; it is retried every interval but said once (code and hint, at warn), and once more when it works again.
 */
function startPulling(options: ConsoleOptions, lock: CloneLock, feed: BoardFeed): () => Promise<void> {
  if (!options.pullMs) return () => Promise.resolve();
  /** The pull in progress: stopping waits for it, so no git process still writes the clone after close(). */
  let pulling: Promise<void> | undefined;
  /** The failure last reported: the same one again is only a debug line. */
  let failing: string | undefined;
  const timer = setInterval(() => {
    if (pulling) return;
    pulling = lock.run(async () => {
      const ws = await GitWorkspace.open(options.repo);
      await ws.syncBase(await ws.currentBranch());
    }).then(() => {
      if (failing !== undefined) options.log.info({ action: "console-pull" }, "the console's clone fast-forwards again; the board follows origin");
      failing = undefined;
      feed.poke();
    }, (e: unknown) => {
      const known = e instanceof BatonError ? e : undefined;
      const problem = { action: "console-pull", code: known?.code ?? "INTERNAL", err: e instanceof Error ? e.message : String(e), ...(known?.hint ? { hint: known.hint } : {}) };
      const key = `${problem.code} ${problem.err}`;
      if (key === failing) return options.log.debug(problem, "still cannot pull the console's clone");
      failing = key;
      options.log.warn(problem, `cannot pull the console's clone (retried every ${options.pullMs}ms; said again only when it changes): the board shows the clone as it is until this is fixed`);
    }).finally(() => {
      pulling = undefined;
    });
  }, options.pullMs);
  return async () => {
    clearInterval(timer);
    await pulling;
  };
}

/** Starts listening; resolves once the port is bound. */
export async function startConsole(options: ConsoleOptions): Promise<RunningConsole> {
  if (!isLoopbackAddress(options.host) && (!options.token || options.token.length < 16)) {
    throw new BatonError("USAGE", `listening on ${options.host} needs a token of at least 16 characters in BATON_CONSOLE_TOKEN`, {
      field: "--listen", hint: "set BATON_CONSOLE_TOKEN (e.g. openssl rand -hex 16), or drop --listen to stay on 127.0.0.1",
    });
  }
  if (options.token) registerSecret(options.token);
  let bound = options.port;
  const lock = new CloneLock();
  const feed = new BoardFeed(options, options.pollMs ?? 5000, options.log, lock);
  const server = createConsoleServer(options, () => bound, feed, lock);
  const stopPulling = startPulling(options, lock, feed);
  await new Promise<void>((resolve, reject) => {
    server.once("error", (e: NodeJS.ErrnoException) => reject(new BatonError("USAGE", `cannot listen on ${options.host}:${options.port}: ${e.code ?? e.message}`, {
      field: "--port", hint: "pick another port with --port N (0 picks a free one)",
    })));
    server.listen(options.port, options.host, resolve);
  });
  bound = (server.address() as AddressInfo).port;
  const shownHost = options.host.includes(":") ? `[${options.host}]` : options.host;
  return {
    url: `http://${shownHost}:${bound}/`,
    port: bound,
    close: async () => {
      await stopPulling();
      feed.close();
      // Whatever still reads the clone under its lock (a board being built, an action) finishes first: a git
      // process must not be writing the clone (an index refresh, a fetch) once close() has resolved.
      await lock.run(async () => undefined);
      await new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
    },
  };
}
