/**
 * Who may talk to the console. It runs with the person's own credentials (their clone, kubeconfig and
 * GitHub token), so a web page they happen to visit must not reach it:
 * - DNS rebinding: on loopback, the Host header must name the loopback address and port the console
 *   listens on; a page on evil.example resolving to 127.0.0.1 sends `Host: evil.example` and is refused.
 * - Cross-site requests: an Origin header (browsers send it on every POST and on cross-origin fetches) must
 *   be the console's own; `Sec-Fetch-Site: cross-site` is refused too; writes must carry a same-origin Origin.
 * - Actions (POST) must also carry the page's per-session token in a header (`X-Baton-Csrf`): a form on another
 *   site cannot set headers, and a script there cannot read the token (no CORS), so it cannot forge one.
 * - Anywhere but loopback, every request needs the token (bearer header or the cookie set by `/?token=`).
 * Pure: the server passes the request's headers in.
 */
import { timingSafeEqual } from "node:crypto";

export const TOKEN_COOKIE = "baton_console_token";

export interface GuardOptions {
  port: number;
  /** Listening on a loopback address only (the default). */
  loopback: boolean;
  /** Required when not on loopback. */
  token?: string;
  /** The per-session token writes must carry (served to the page by GET /api/session). */
  csrfToken?: string;
}

export const CSRF_HEADER = "x-baton-csrf";

export interface RequestFacts {
  method: string;
  host?: string;
  origin?: string;
  secFetchSite?: string;
  /** The `X-Baton-Csrf` header: the page's session token, required on writes. */
  csrf?: string;
  authorization?: string;
  cookie?: string;
  /** `?token=` of the URL: how a browser first presents the token (the server then sets the cookie). */
  queryToken?: string;
}

export interface Refusal {
  status: number;
  reason: string;
}

const SAFE_METHODS = new Set(["GET", "HEAD"]);

export function loopbackHosts(port: number): string[] {
  return [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`];
}

export function isLoopbackAddress(address: string): boolean {
  return address === "127.0.0.1" || address === "::1" || address === "localhost" || /^127\.\d+\.\d+\.\d+$/.test(address);
}

function sameSecret(given: string | undefined, want: string): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(want);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function cookieValue(cookie: string | undefined, name: string): string | undefined {
  for (const part of (cookie ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq !== -1 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export function hasToken(facts: RequestFacts, token: string): boolean {
  const bearer = /^Bearer (.+)$/.exec(facts.authorization ?? "")?.[1];
  return sameSecret(bearer, token) || sameSecret(cookieValue(facts.cookie, TOKEN_COOKIE), token) || sameSecret(facts.queryToken, token);
}

/** Why a request is refused, or undefined when it may proceed. */
export function refusal(facts: RequestFacts, options: GuardOptions): Refusal | undefined {
  const host = facts.host?.toLowerCase();
  if (!host) return { status: 400, reason: "request has no Host header" };
  if (options.loopback && !loopbackHosts(options.port).includes(host)) {
    return { status: 403, reason: `Host "${host}" is not the console's loopback address (DNS rebinding?); open http://127.0.0.1:${options.port}/` };
  }
  if (facts.origin !== undefined && facts.origin !== `http://${host}`) return { status: 403, reason: `cross-origin request from ${facts.origin} refused` };
  if (facts.secFetchSite === "cross-site") return { status: 403, reason: "cross-site request refused" };
  if (!SAFE_METHODS.has(facts.method)) {
    if (facts.origin === undefined) return { status: 403, reason: `${facts.method} without an Origin header refused` };
    if (facts.secFetchSite !== undefined && facts.secFetchSite !== "same-origin") return { status: 403, reason: `${facts.method} from ${facts.secFetchSite} refused` };
    if (!options.csrfToken || !sameSecret(facts.csrf, options.csrfToken)) return { status: 403, reason: `${facts.method} without the page's session token refused (reload the console page)` };
  }
  if (!options.loopback) {
    if (!options.token) return { status: 403, reason: "the console needs a token when it listens beyond loopback" };
    if (!hasToken(facts, options.token)) return { status: 401, reason: "token required: open the URL with ?token=… printed by baton console" };
  }
  return undefined;
}
