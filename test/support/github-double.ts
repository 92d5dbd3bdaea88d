/**
 * A stand-in for the GitHub REST endpoints Baton calls, on a loopback port, modelled on GitHub's documented
 * behaviour: pulls (422 for a head branch that does not exist), merges through the API (merge | squash |
 * rebase as real commits on the test git server's repository, repository merge settings, 405 when
 * protection or conflicts forbid it, 409 on a stale `sha`), reviews as a given user, classic branch
 * protection (required contexts, approvals, code owners from CODEOWNERS), repository rulesets' required
 * status checks (405 "Repository rule violations found"; no merge queue), commit statuses, deployments
 * (`ref` resolved to a sha, `auto_inactive`), pagination with `Link` headers, and secondary rate limits a
 * test switches on. Baton reaches it through octokit with a custom baseUrl, exactly as it reaches GitHub
 * Enterprise; every exchange is checked against GitHub's OpenAPI description (`violations`).
 *
 * Repositories are the git server's bare repos: `/repos/acme/config` is `<server root>/acme/config.git`
 * (or one registered with `addRepo`); anything else is 404. PR numbers are unique across the stand-in
 * (GitHub numbers per repository), so tests can look a PR up by number alone.
 */
import { createVerify, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import http from "node:http";
import path from "node:path";
import { connectGitHub } from "../../src/github/connect.js";
import type { GitHubApi } from "../../src/github/api.js";
import { BareRepo, MergeConflict, type Identity } from "./github/git-host.js";
import { CODEOWNERS_PATHS, parseCodeowners, protectionRefusal, rulesetRefusal, type BranchProtection, type Ruleset } from "./github/protection.js";
import type { GitServer } from "./git-server.js";
import { validateExchange } from "./openapi.js";

export interface DoublePull {
  repository: string;
  number: number;
  title: string;
  body: string;
  head: string;
  base: string;
  state: "open" | "closed";
  merged: boolean;
  mergeCommitSha?: string;
  /** The commits the merge put on the base branch (several for a rebase merge). */
  landed: string[];
  author: string;
  labels: string[];
  comments: string[];
}

export interface DoubleReview { id: number; pull: number; user: string; state: "APPROVED" | "CHANGES_REQUESTED" | "COMMENTED"; commitId: string; body: string }

export interface DoubleStatus { repository: string; sha: string; state: string; context: string; description: string }

export interface DoubleDeployment {
  repository: string; id: number; sha: string; ref: string; environment: string; created_at: string; transient: boolean; production: boolean;
  statuses: Array<{ id: number; state: string; description: string; created_at: string }>;
}

/** Repository merge settings (GET /repos/{owner}/{repo}), with GitHub's defaults. */
export interface RepoSettings {
  allow_merge_commit: boolean;
  allow_squash_merge: boolean;
  allow_rebase_merge: boolean;
  squash_merge_commit_title: "PR_TITLE" | "COMMIT_OR_PR_TITLE";
  squash_merge_commit_message: "PR_BODY" | "COMMIT_MESSAGES" | "BLANK";
  merge_commit_title: "PR_TITLE" | "MERGE_MESSAGE";
  merge_commit_message: "PR_BODY" | "PR_TITLE" | "BLANK";
}

export const DEFAULT_SETTINGS: RepoSettings = {
  allow_merge_commit: true, allow_squash_merge: true, allow_rebase_merge: true,
  squash_merge_commit_title: "COMMIT_OR_PR_TITLE", squash_merge_commit_message: "COMMIT_MESSAGES",
  merge_commit_title: "MERGE_MESSAGE", merge_commit_message: "PR_TITLE",
};

const SECONDARY_LIMIT = "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.";

export class GitHubDouble {
  readonly pulls: DoublePull[] = [];
  readonly reviews: DoubleReview[] = [];
  readonly statuses: DoubleStatus[] = [];
  readonly deployments: DoubleDeployment[] = [];
  readonly requests: string[] = [];
  /** Every mismatch with GitHub's OpenAPI description, in requests Baton sent or responses the double gave. */
  readonly violations: string[] = [];
  /** owner/name of every repository addressed. */
  readonly repositories = new Set<string>();
  /** Merge settings, for every repository. */
  settings: RepoSettings = { ...DEFAULT_SETTINGS };
  /** Classic branch protection by base branch name. */
  readonly protection = new Map<string, BranchProtection>();
  /** Repository rulesets (required status checks only), for every repository; main is the default branch. */
  readonly rulesets: Ruleset[] = [];
  /** `org/team` → member logins, for CODEOWNERS entries naming teams. */
  readonly teams = new Map<string, string[]>();
  /** Set to make every request fail with this HTTP status (outage / permission tests). */
  failWith?: number;
  /** The next `remaining` requests hit a secondary rate limit (403 or 429 with `retry-after`). */
  secondaryRateLimit?: { remaining: number; status: 403 | 429; retryAfterSeconds: number };
  /** How many requests were refused by the secondary rate limit. */
  rateLimited = 0;
  private readonly users = new Map<string, string>();
  private readonly repoDirs = new Map<string, string>();
  private nextId = 1;
  private server?: http.Server;
  port = 0;

  constructor(readonly git: GitServer | undefined, readonly token = "test-token", readonly login = "baton-bot") {
    this.users.set(token, login);
  }

  /** Starts the stand-in over `git`'s repositories (`acme/config` ↔ `<root>/acme/config.git`). */
  static async start(git?: GitServer): Promise<GitHubDouble> {
    const d = new GitHubDouble(git);
    d.server = http.createServer((req, res) => void d.handle(req, res));
    await new Promise<void>((resolve) => d.server?.listen(0, "127.0.0.1", () => resolve()));
    const a = d.server.address();
    d.port = typeof a === "object" && a ? a.port : 0;
    return d;
  }

  /** Serves `owner/name` from this bare repository (for repos the git server names differently). */
  addRepo(fullName: string, bareDir: string): void {
    this.repoDirs.set(fullName, bareDir);
  }

  /** A token that authenticates as `login` (a reviewer, a code owner). */
  addUser(login: string): string {
    const token = `ghp_${login}_${randomBytes(6).toString("hex")}`;
    this.users.set(token, login);
    return token;
  }

  /**
   * Baton's GitHub client for this stand-in, wired like the CLI: owner/repo from the clone's origin
   * remote, the token from the environment, an Enterprise-style baseUrl.
   */
  readonly connect = (remoteUrl: string | undefined, token = this.token): GitHubApi =>
    connectGitHub({ url: this.baseUrl, ...(remoteUrl ? { remoteUrl } : {}), env: { GITHUB_TOKEN: token, BATON_GITHUB_WRITE_INTERVAL_MS: process.env.BATON_GITHUB_WRITE_INTERVAL_MS ?? "0" } });

  /** Submits a review on PR `number` as `login`, through the Reviews API (what a reviewer's click does). */
  async review(number: number, login: string, event: "APPROVE" | "REQUEST_CHANGES" | "COMMENT" = "APPROVE"): Promise<void> {
    const token = [...this.users].find(([, l]) => l === login)?.[0] ?? this.addUser(login);
    const res = await fetch(`${this.baseUrl}/repos/${this.pull(number).repository}/pulls/${number}/reviews`, {
      method: "POST", headers: { authorization: `token ${token}`, "content-type": "application/json" }, body: JSON.stringify({ event }),
    });
    if (!res.ok) throw new Error(`review of #${number} by ${login} failed: HTTP ${res.status} ${await res.text()}`);
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}/api/v3`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }

  pull(number: number): DoublePull {
    const p = this.pulls.find((x) => x.number === number);
    if (!p) throw new Error(`no pull #${number}`);
    return p;
  }

  private bareRepo(fullName: string): BareRepo | undefined {
    const dir = this.repoDirs.get(fullName) ?? (this.git ? path.join(this.git.root, `${fullName}.git`) : undefined);
    return dir && existsSync(dir) ? new BareRepo(dir) : undefined;
  }

  private pullJson(p: DoublePull, headSha: string | undefined): Record<string, unknown> {
    const [owner] = p.repository.split("/");
    return {
      number: p.number, id: p.number, title: p.title, body: p.body, state: p.state, merged: p.merged,
      merged_at: p.merged ? new Date().toISOString() : null, merge_commit_sha: p.mergeCommitSha ?? null,
      html_url: `https://github.example/${p.repository}/pull/${p.number}`, user: { login: p.author },
      head: { ref: p.head, label: `${owner}:${p.head}`, ...(headSha ? { sha: headSha } : {}) }, base: { ref: p.base },
      labels: p.labels.map((name) => ({ name })),
    };
  }

  private deploymentJson(d: DoubleDeployment): Record<string, unknown> {
    return { id: d.id, sha: d.sha, ref: d.ref, environment: d.environment, created_at: d.created_at, transient_environment: d.transient, production_environment: d.production };
  }

  private app?: { appId: number; installationId: number; publicKey: string; installationToken: string };

  /** Accept GitHub App authentication for this app (JWTs verified with `publicKey`). */
  enableApp(appId: number, installationId: number, publicKey: string): void {
    this.app = { appId, installationId, publicKey, installationToken: `ghs_${randomBytes(12).toString("hex")}` };
    this.users.set(this.app.installationToken, "baton[bot]");
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
    const headers: Record<string, string> = { "content-type": "application/json" };
    const send = (status: number, value: unknown, validate = true): void => {
      if (validate && status !== 401 && status !== this.failWith) {
        this.violations.push(...validateExchange({ method, path: url.pathname.replace(/^\/api\/v3/, ""), query: url.searchParams, body: rawBody, status, response: value }));
      }
      res.writeHead(status, headers).end(JSON.stringify(value));
    };
    /** One page of `items` per `per_page` (default 30, at most 100) and `page`, with GitHub's Link header. */
    const sendPage = (items: unknown[]): void => {
      const perPage = Math.min(100, Math.max(1, Number(url.searchParams.get("per_page") ?? 30)));
      const page = Math.max(1, Number(url.searchParams.get("page") ?? 1));
      const last = Math.max(1, Math.ceil(items.length / perPage));
      const link = (n: number, rel: string) => {
        const u = new URL(`${this.baseUrl}${url.pathname.replace(/^\/api\/v3/, "")}${url.search}`);
        u.searchParams.set("page", String(n));
        return `<${u.toString()}>; rel="${rel}"`;
      };
      const links = [...(page < last ? [link(page + 1, "next"), link(last, "last")] : []), ...(page > 1 ? [link(1, "first"), link(page - 1, "prev")] : [])];
      if (links.length > 0) headers.link = links.join(", ");
      send(200, items.slice((page - 1) * perPage, page * perPage));
    };
    if (this.secondaryRateLimit && this.secondaryRateLimit.remaining > 0) {
      this.secondaryRateLimit.remaining--;
      this.rateLimited++;
      headers["retry-after"] = String(this.secondaryRateLimit.retryAfterSeconds);
      return send(this.secondaryRateLimit.status, { message: SECONDARY_LIMIT, documentation_url: "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits" }, false);
    }
    // GitHub App: a JWT signed with the app's private key buys an installation token.
    const appRoute = /^\/api\/v3\/app\/installations\/(\d+)\/access_tokens$/.exec(url.pathname);
    if (appRoute && method === "POST") {
      if (!this.app || Number(appRoute[1]) !== this.app.installationId || !this.validJwt(req.headers.authorization)) return send(401, { message: "A JSON web token could not be decoded" });
      return send(201, { token: this.app.installationToken, expires_at: new Date(Date.now() + 3600_000).toISOString() });
    }
    const user = this.users.get((req.headers.authorization ?? "").replace(/^token /, ""));
    if (!user) return send(401, { message: "Bad credentials" });
    if (this.failWith) return send(this.failWith, { message: "injected failure" });
    const prefix = /^\/api\/v3\/repos\/([\w.-]+\/[\w.-]+)/.exec(url.pathname);
    const fullName = prefix?.[1];
    const repo = fullName ? this.bareRepo(fullName) : undefined;
    if (!prefix || !fullName || !repo) return send(404, { message: "Not Found" }, false);
    this.repositories.add(fullName);
    const route = `${method} ${url.pathname.slice(prefix[0].length)}`;
    const pullOf = (n: string | undefined) => this.pulls.find((x) => x.repository === fullName && x.number === Number(n));
    const invalid = (resource: string, field: string, message: string) => send(422, { message: "Validation Failed", errors: [{ resource, field, code: "invalid", message }], documentation_url: "https://docs.github.com/rest" });
    let m: RegExpExecArray | null;

    if (route === "GET ") return send(200, { id: 1, name: fullName.split("/")[1], full_name: fullName, default_branch: "main", ...this.settings });
    if (route === "GET /pulls") {
      const state = url.searchParams.get("state") ?? "open";
      const head = url.searchParams.get("head");
      const [owner] = fullName.split("/");
      const matching = this.pulls.filter((p) => p.repository === fullName && (state === "all" || p.state === state) && (!head || `${owner}:${p.head}` === head));
      const heads = await repo.branches();
      return sendPage(matching.map((p) => this.pullJson(p, heads.get(p.head))));
    }
    if (route === "POST /pulls") {
      const head = String(body.head);
      const base = String(body.base);
      if (!(await repo.branchSha(base))) return invalid("PullRequest", "base", `base ${base} does not exist`);
      if (!(await repo.branchSha(head))) return invalid("PullRequest", "head", `head ${head} does not exist`);
      // Like GitHub: one open PR per head branch.
      if (this.pulls.some((p) => p.repository === fullName && p.state === "open" && p.head === head)) return invalid("PullRequest", "head", `A pull request already exists for ${fullName.split("/")[0]}:${head}.`);
      const p: DoublePull = { repository: fullName, number: this.nextId++, title: String(body.title), body: String(body.body ?? ""), head, base, state: "open", merged: false, landed: [], author: user, labels: [], comments: [] };
      this.pulls.push(p);
      return send(201, this.pullJson(p, await repo.branchSha(head)));
    }
    if ((m = /^(GET|PATCH) \/pulls\/(\d+)$/.exec(route))) {
      const p = pullOf(m[2]);
      if (!p) return send(404, { message: "Not Found" });
      if (m[1] === "PATCH") {
        if (typeof body.title === "string") p.title = body.title;
        if (typeof body.body === "string") p.body = body.body;
        if ((body.state === "closed" || body.state === "open") && !p.merged) p.state = body.state;
      }
      return send(200, this.pullJson(p, await repo.branchSha(p.head)));
    }
    if ((m = /^PUT \/pulls\/(\d+)\/merge$/.exec(route))) {
      const p = pullOf(m[1]);
      if (!p) return send(404, { message: "Not Found" });
      return this.merge(repo, p, body, user, send);
    }
    if ((m = /^(GET|POST) \/pulls\/(\d+)\/reviews$/.exec(route))) {
      const p = pullOf(m[2]);
      if (!p) return send(404, { message: "Not Found" });
      const json = (r: DoubleReview) => ({ id: r.id, user: { login: r.user }, body: r.body, state: r.state, commit_id: r.commitId, html_url: `https://github.example/${fullName}/pull/${p.number}#pullrequestreview-${r.id}`, pull_request_url: `https://github.example/${fullName}/pull/${p.number}` });
      if (m[1] === "GET") return sendPage(this.reviews.filter((r) => r.pull === p.number).map(json));
      const event = String(body.event ?? "");
      if ((event === "APPROVE" || event === "REQUEST_CHANGES") && user === p.author) return send(422, { message: `Unprocessable Entity`, errors: [`Can not ${event === "APPROVE" ? "approve" : "request changes on"} your own pull request`] });
      const state = event === "APPROVE" ? "APPROVED" : event === "REQUEST_CHANGES" ? "CHANGES_REQUESTED" : "COMMENTED";
      const r: DoubleReview = { id: this.nextId++, pull: p.number, user, state, commitId: (await repo.branchSha(p.head)) ?? "", body: String(body.body ?? "") };
      this.reviews.push(r);
      return send(200, json(r));
    }
    if ((m = /^POST \/issues\/(\d+)\/(comments|labels)$/.exec(route))) {
      const p = pullOf(m[1]);
      if (!p) return send(404, { message: "Not Found" });
      if (m[2] === "comments") {
        p.comments.push(String(body.body));
        return send(201, { id: p.comments.length, body: body.body });
      }
      for (const l of (body.labels as string[] | undefined) ?? []) if (!p.labels.includes(l)) p.labels.push(l);
      return send(200, p.labels.map((name) => ({ name })));
    }
    if ((m = /^POST \/statuses\/([0-9a-f]{40})$/.exec(route))) {
      if (!(await repo.resolve(m[1] ?? ""))) return invalid("Status", "sha", `No commit found for SHA: ${m[1]}`);
      this.statuses.push({ repository: fullName, sha: m[1] ?? "", state: String(body.state), context: String(body.context ?? "default"), description: String(body.description ?? "") });
      return send(201, { state: body.state, context: body.context });
    }
    if ((m = /^GET \/commits\/([^/]+)\/statuses$/.exec(route))) {
      const sha = await repo.resolve(decodeURIComponent(m[1] ?? ""));
      return sendPage(this.statuses.filter((s) => s.repository === fullName && s.sha === sha).reverse().map((s) => ({ state: s.state, context: s.context, description: s.description })));
    }
    if ((m = /^GET \/commits\/([0-9a-f]{40})\/pulls$/.exec(route))) {
      const sha = m[1] ?? "";
      const heads = await repo.branches();
      return sendPage(this.pulls.filter((p) => p.repository === fullName && (p.landed.includes(sha) || heads.get(p.head) === sha)).map((p) => this.pullJson(p, heads.get(p.head))));
    }
    if (route === "POST /deployments") {
      const ref = String(body.ref);
      const sha = await repo.resolve(ref);
      if (!sha) return send(422, { message: `No ref found for: ${ref}`, documentation_url: "https://docs.github.com/rest/deployments/deployments#create-a-deployment" });
      const environment = String(body.environment ?? "production");
      const d: DoubleDeployment = {
        repository: fullName, id: this.nextId++, sha, ref, environment, created_at: new Date().toISOString(), statuses: [],
        transient: body.transient_environment === true, production: typeof body.production_environment === "boolean" ? body.production_environment : environment === "production",
      };
      this.deployments.push(d);
      return send(201, this.deploymentJson(d));
    }
    if (route === "GET /deployments") {
      const q = (k: string) => url.searchParams.get(k);
      return sendPage(this.deployments.filter((d) => d.repository === fullName && (!q("environment") || d.environment === q("environment")) && (!q("sha") || d.sha === q("sha")) && (!q("ref") || d.ref === q("ref"))).reverse().map((d) => this.deploymentJson(d)));
    }
    if ((m = /^(POST|GET) \/deployments\/(\d+)\/statuses$/.exec(route))) {
      const d = this.deployments.find((x) => x.repository === fullName && x.id === Number(m?.[2]));
      if (!d) return send(404, { message: "Not Found" });
      if (m[1] === "GET") return sendPage([...d.statuses].reverse());
      const s = { id: this.nextId++, state: String(body.state), description: String(body.description ?? ""), created_at: new Date().toISOString() };
      d.statuses.push(s);
      // auto_inactive (default true): a new success marks every older successful deployment of the same
      // repository and environment inactive, unless that environment is a production or transient one.
      if (s.state === "success" && body.auto_inactive !== false) {
        for (const older of this.deployments) {
          if (older === d || older.repository !== fullName || older.environment !== d.environment || older.production || older.transient || older.id > d.id) continue;
          if (older.statuses.at(-1)?.state === "success") older.statuses.push({ id: this.nextId++, state: "inactive", description: "", created_at: s.created_at });
        }
      }
      return send(201, s);
    }
    return send(404, { message: `GitHubDouble does not implement ${route}` }, false);
  }

  /** PUT /pulls/{n}/merge: GitHub's checks in GitHub's words, then real commits on the base branch. */
  private async merge(repo: BareRepo, p: DoublePull, body: Record<string, unknown>, user: string, send: (status: number, value: unknown) => void): Promise<void> {
    const method = (body.merge_method ?? "merge") as "merge" | "squash" | "rebase";
    const headSha = await repo.branchSha(p.head);
    if (p.state !== "open" || !headSha) return send(405, { message: "Pull Request is not mergeable" });
    if (typeof body.sha === "string" && body.sha !== headSha) return send(409, { message: "Head branch was modified. Review and try the merge again." });
    const allowed = { merge: this.settings.allow_merge_commit, squash: this.settings.allow_squash_merge, rebase: this.settings.allow_rebase_merge }[method];
    if (!allowed) return send(405, { message: `${{ merge: "Merge commits", squash: "Squash merges", rebase: "Rebase merges" }[method]} are not allowed on this repository.` });
    const latest = new Map<string, string>();
    for (const s of this.statuses) if (s.repository === p.repository && s.sha === headSha) latest.set(s.context, s.state);
    const lastReview = new Map<string, DoubleReview>();
    for (const r of this.reviews) if (r.pull === p.number && r.state !== "COMMENTED") lastReview.set(r.user, r);
    const protection = this.protection.get(p.base);
    let codeowners = "";
    // CODEOWNERS and the changed files matter only when code-owner review is required.
    for (const file of protection?.requireCodeOwnerReviews ? CODEOWNERS_PATHS : []) {
      const text = await repo.readFile(`refs/heads/${p.base}`, file);
      if (text !== undefined) {
        codeowners = text;
        break;
      }
    }
    const refusal = protectionRefusal(protection, {
      statuses: latest, approvers: [...lastReview.values()].filter((r) => r.state === "APPROVED" && r.user !== p.author).map((r) => r.user),
      changedFiles: protection?.requireCodeOwnerReviews ? await repo.changedFiles(`refs/heads/${p.base}`, headSha) : [], codeowners: parseCodeowners(codeowners), teams: this.teams,
    });
    if (refusal) return send(405, { message: refusal, documentation_url: "https://docs.github.com/articles/about-protected-branches" });
    const ruleViolation = rulesetRefusal(this.rulesets, p.base, "main", latest);
    if (ruleViolation) return send(405, { message: ruleViolation, documentation_url: "https://docs.github.com/repositories/configuring-branches-and-merges-in-your-repository/managing-rulesets/about-rulesets" });
    const commits = await repo.commitsBetween(`refs/heads/${p.base}`, headSha);
    const identity = (login: string): Identity => ({ name: login, email: `${login}@users.noreply.github.com` });
    const [owner] = p.repository.split("/");
    const mergeTitle = typeof body.commit_title === "string" ? body.commit_title : this.settings.merge_commit_title === "PR_TITLE" ? `${p.title} (#${p.number})` : `Merge pull request #${p.number} from ${owner}/${p.head}`;
    const mergeBody = typeof body.commit_message === "string" ? body.commit_message : { PR_TITLE: p.title, PR_BODY: p.body, BLANK: "" }[this.settings.merge_commit_message];
    const single = commits.length === 1 ? commits[0] : undefined;
    const squashTitle = typeof body.commit_title === "string" ? body.commit_title
      : `${this.settings.squash_merge_commit_title === "COMMIT_OR_PR_TITLE" && single ? single.message.split("\n")[0] : p.title} (#${p.number})`;
    const squashBody = typeof body.commit_message === "string" ? body.commit_message
      : this.settings.squash_merge_commit_message === "PR_BODY" ? p.body
      : this.settings.squash_merge_commit_message === "BLANK" ? ""
      : single && this.settings.squash_merge_commit_title === "COMMIT_OR_PR_TITLE" ? single.message.split("\n").slice(1).join("\n").trim()
      : commits.map((c) => `* ${c.message}`).join("\n\n");
    const join = (title: string, rest: string) => (rest.trim() ? `${title}\n\n${rest.trim()}` : title);
    try {
      const landed = await repo.merge(method, {
        base: p.base, head: p.head, mergeMessage: join(mergeTitle, mergeBody), squashMessage: join(squashTitle, squashBody),
        merger: identity(user), prAuthor: identity(p.author),
      });
      const tip = landed.at(-1) ?? "";
      Object.assign(p, { state: "closed", merged: true, mergeCommitSha: tip, landed });
      return send(200, { sha: tip, merged: true, message: "Pull Request successfully merged" });
    } catch (e) {
      if (e instanceof MergeConflict) return send(405, { message: "Pull Request is not mergeable" });
      throw e;
    }
  }
}
