/**
 * GitHubApi over @octokit/rest. Works against github.com and GitHub Enterprise (`baseUrl`, e.g.
 * https://ghe.example.com/api/v3) — the tests use the same path with a local double's URL.
 */
import { Octokit } from "@octokit/rest";
import { createAppAuth } from "@octokit/auth-app";
import { retry } from "@octokit/plugin-retry";
import { throttling } from "@octokit/plugin-throttling";
import Bottleneck from "bottleneck";
import { BatonError } from "../errors.js";
import type { Deployment, DeploymentState, DeploymentStatus, GitHubApi, MergeMethod, PullRequest } from "./api.js";
import type { RepoId } from "./remote.js";

/**
 * Octokit with GitHub's recommended client behaviour: plugin-throttling queues requests, spaces writes
 * and waits out primary and secondary rate limits (403/429 with retry-after) before retrying; plugin-retry
 * retries server errors with backoff. Answers that are decisions, not accidents (405 merge refused, 409
 * stale head, 422 invalid) are never retried.
 */
const BatonOctokit = Octokit.plugin(retry, throttling);

/** How often one request is retried after a rate limit before Baton gives up and reports it. */
export const RATE_LIMIT_RETRIES = 3;
/** Rate-limit waits longer than this are not waited out (the CLI would seem to hang). */
const MAX_RATE_LIMIT_WAIT_S = 120;

/** A GitHub App installation: Baton signs a JWT with the app's key and uses short-lived installation tokens. */
export interface GitHubAppCredentials {
  appId: number;
  privateKey: string;
  installationId: number;
}

export interface OctokitOptions {
  /** A personal or fine-grained token; or `app` instead. */
  token?: string;
  app?: GitHubAppCredentials;
  repo: RepoId;
  /** API root; default https://api.github.com. */
  baseUrl?: string;
  /**
   * Spacing between write requests; GitHub asks integrators to leave about 1 s between mutating requests
   * (the default). BATON_GITHUB_WRITE_INTERVAL_MS overrides it (GitHub Enterprise without secondary limits,
   * tests).
   */
  writeIntervalMs?: number;
  /** Server-error retries (plugin-retry); default 2. */
  retries?: number;
  /** Called when a rate limit is being waited out (for logs). */
  onRateLimit?: (message: string) => void;
}

interface RawPull {
  number: number;
  html_url: string;
  title: string;
  body?: string | null;
  state: string;
  head: { ref: string; sha?: string };
  base: { ref: string };
  labels: Array<{ name?: string } | string>;
  merged?: boolean | null;
}

function toPull(p: RawPull): PullRequest {
  return {
    number: p.number, url: p.html_url, title: p.title, body: p.body ?? "", head: p.head.ref, base: p.base.ref,
    labels: p.labels.map((l) => (typeof l === "string" ? l : l.name ?? "")).filter(Boolean),
    state: p.state === "open" ? "open" : "closed",
    ...(p.head.sha ? { headSha: p.head.sha } : {}),
    ...(typeof p.merged === "boolean" ? { merged: p.merged } : {}),
  };
}

function statusOf(e: unknown): number | undefined {
  return typeof e === "object" && e !== null && "status" in e ? Number((e as { status: unknown }).status) : undefined;
}

/** Every octokit failure becomes one GITHUB_FAILED line with the HTTP status and what was attempted. */
async function call<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    const status = statusOf(e);
    const hint = status === 401 ? "check GITHUB_TOKEN" : status === 429 || (status === 403 && /rate limit/i.test(githubReason(e))) ? "GitHub rate-limited Baton; rerun later" : status === 403 ? "the token lacks permission (needs contents, pull-requests, statuses, deployments: write)" : status === 404 ? "check --github-repo / the origin remote and --github-url" : "retry; check --github-url and network access";
    throw new BatonError("GITHUB_FAILED", `GitHub ${what} failed${status ? ` (HTTP ${status})` : ""}: ${githubReason(e)}`, { cause: e, hint });
  }
}

/**
 * GitHub's own JSON `message` ("Not Found", "Validation Failed"), never the raw response: a proxy or a
 * wrong --github-url answers with whatever page it likes, and that must not reach logs or statuses.
 */
function githubReason(e: unknown): string {
  const err = e as { response?: { data?: unknown }; code?: unknown; status?: unknown };
  const data = err?.response?.data;
  // One line: GitHub's ruleset refusals put a heading and the violated rules on separate lines.
  if (data && typeof data === "object" && typeof (data as { message?: unknown }).message === "string") return (data as { message: string }).message.split(/\s*\n\s*/).filter(Boolean).join(": ").slice(0, 300);
  if (typeof err?.code === "string" && /^E[A-Z]+$/.test(err.code)) return `network error ${err.code}`;
  if (err?.status !== undefined) return "the response was not a GitHub API error";
  return e instanceof Error && e.name !== "HttpError" ? e.message.split("\n")[0]?.slice(0, 300) ?? "unknown error" : "unknown error";
}

/** BATON_GITHUB_WRITE_INTERVAL_MS, else GitHub's guidance of about one second between writes. */
export function writeIntervalFromEnv(env: NodeJS.ProcessEnv): number {
  const ms = Number(env.BATON_GITHUB_WRITE_INTERVAL_MS);
  return env.BATON_GITHUB_WRITE_INTERVAL_MS !== undefined && Number.isFinite(ms) && ms >= 0 ? ms : 1000;
}

export class OctokitGitHub implements GitHubApi {
  readonly repository: string;
  private readonly octokit: Octokit;
  private readonly id: RepoId;

  constructor(options: OctokitOptions) {
    this.id = options.repo;
    this.repository = `${options.repo.owner}/${options.repo.repo}`;
    const auth = options.app ? { authStrategy: createAppAuth, auth: { ...options.app } } : { auth: options.token };
    const onLimit = (kind: string) => (retryAfter: number, req: { method: string; url: string }, _octokit: unknown, retryCount: number): boolean => {
      const wait = retryCount < RATE_LIMIT_RETRIES && retryAfter <= MAX_RATE_LIMIT_WAIT_S;
      options.onRateLimit?.(`GitHub ${kind} rate limit on ${req.method} ${req.url}: ${wait ? `waiting ${retryAfter}s (retry ${retryCount + 1}/${RATE_LIMIT_RETRIES})` : "giving up"}`);
      return wait;
    };
    const writeIntervalMs = options.writeIntervalMs ?? writeIntervalFromEnv(process.env);
    this.octokit = new BatonOctokit({
      ...auth, userAgent: "baton", ...(options.baseUrl ? { baseUrl: options.baseUrl.replace(/\/+$/, "") } : {}),
      log: { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined },
      retry: { doNotRetry: [400, 401, 403, 404, 405, 409, 410, 422, 429, 451], retries: options.retries ?? 2 },
      throttle: {
        onRateLimit: onLimit("primary"), onSecondaryRateLimit: onLimit("secondary"),
        // One write queue per client (the plugin's default queue is shared by the whole process).
        write: new Bottleneck.Group({ maxConcurrent: 1, minTime: writeIntervalMs }),
      },
    });
  }

  async findOpenPull(head: string): Promise<PullRequest | undefined> {
    const pulls = await call("list pulls", () => this.octokit.paginate(this.octokit.rest.pulls.list, { ...this.id, state: "open", head: `${this.id.owner}:${head}`, per_page: 100 }));
    const match = pulls.find((p) => p.head.ref === head);
    return match ? toPull(match) : undefined;
  }

  async getPull(number: number): Promise<PullRequest> {
    const res = await call(`get pull #${number}`, () => this.octokit.rest.pulls.get({ ...this.id, pull_number: number }));
    return toPull(res.data);
  }

  async mergeMethods(): Promise<MergeMethod[]> {
    const res = await call("read repository settings", () => this.octokit.rest.repos.get({ ...this.id }));
    const r = res.data;
    const methods: MergeMethod[] = [];
    // GitHub omits these fields for tokens without push access; treat "unknown" as allowed and let the merge decide.
    if (r.allow_merge_commit !== false) methods.push("merge");
    if (r.allow_squash_merge !== false) methods.push("squash");
    if (r.allow_rebase_merge !== false) methods.push("rebase");
    return methods;
  }

  async mergePull(number: number, input: { method: MergeMethod; sha?: string }): Promise<{ sha: string }> {
    try {
      const res = await this.octokit.rest.pulls.merge({ ...this.id, pull_number: number, merge_method: input.method, ...(input.sha ? { sha: input.sha } : {}) });
      return { sha: res.data.sha };
    } catch (e) {
      const status = statusOf(e);
      if (status === 405 || status === 409) {
        const reason = githubReason(e);
        throw new BatonError("GITHUB_MERGE_REFUSED", `GitHub refused to merge #${number} (${input.method}): ${reason}`, {
          cause: e, hint: status === 409 ? "the PR changed since it was checked; rerun" : "provide what GitHub names (a review, a passing check), then rerun",
        });
      }
      return call(`merge #${number}`, () => Promise.reject(e));
    }
  }

  async pullsForCommit(sha: string): Promise<number[]> {
    const pulls = await call(`pulls of ${sha.slice(0, 7)}`, () => this.octokit.paginate(this.octokit.rest.repos.listPullRequestsAssociatedWithCommit, { ...this.id, commit_sha: sha, per_page: 100 }));
    return pulls.filter((p) => p.merged_at).map((p) => p.number);
  }

  async commitStatus(sha: string, context: string): Promise<{ state: string; description: string } | undefined> {
    // Newest first, so the first entry for the context is its current state.
    for await (const page of this.octokit.paginate.iterator(this.octokit.rest.repos.listCommitStatusesForRef, { ...this.id, ref: sha, per_page: 100 })) {
      const hit = page.data.find((s) => s.context === context);
      if (hit) return { state: hit.state, description: hit.description ?? "" };
    }
    return undefined;
  }

  async openPull(input: { head: string; base: string; title: string; body: string }): Promise<PullRequest> {
    const res = await call("create pull", () => this.octokit.rest.pulls.create({ ...this.id, ...input }));
    return toPull(res.data);
  }

  async updatePull(number: number, input: { title?: string; body?: string }): Promise<PullRequest> {
    const res = await call(`update pull #${number}`, () => this.octokit.rest.pulls.update({ ...this.id, pull_number: number, ...input }));
    return toPull(res.data);
  }

  async closePull(number: number): Promise<void> {
    await call(`close pull #${number}`, () => this.octokit.rest.pulls.update({ ...this.id, pull_number: number, state: "closed" }));
  }

  async comment(number: number, body: string): Promise<void> {
    await call(`comment on #${number}`, () => this.octokit.rest.issues.createComment({ ...this.id, issue_number: number, body }));
  }

  async addLabels(number: number, labels: string[]): Promise<void> {
    await call(`label #${number}`, () => this.octokit.rest.issues.addLabels({ ...this.id, issue_number: number, labels }));
  }

  async listOpenPulls(label?: string): Promise<PullRequest[]> {
    const pulls = await call("list pulls", () => this.octokit.paginate(this.octokit.rest.pulls.list, { ...this.id, state: "open", per_page: 100 }));
    return pulls.map(toPull).filter((p) => label === undefined || p.labels.includes(label));
  }

  async setCommitStatus(sha: string, input: { state: "pending" | "success" | "failure" | "error"; context: string; description: string; targetUrl?: string }): Promise<void> {
    await call(`set status on ${sha.slice(0, 7)}`, () => this.octokit.rest.repos.createCommitStatus({
      ...this.id, sha, state: input.state, context: input.context, description: input.description.slice(0, 140), ...(input.targetUrl ? { target_url: input.targetUrl } : {}),
    }));
  }

  async createDeployment(input: { ref: string; environment: string; description: string }): Promise<Deployment> {
    const res = await call("create deployment", () => this.octokit.rest.repos.createDeployment({ ...this.id, ref: input.ref, environment: input.environment, description: input.description, auto_merge: false, required_contexts: [] }));
    const d = res.data;
    if (!("id" in d)) throw new BatonError("GITHUB_FAILED", `GitHub did not create a deployment: ${d.message ?? "unknown reason"}`, { hint: "check the ref exists on GitHub" });
    return { id: d.id, sha: d.sha, ref: d.ref, environment: d.environment, createdAt: d.created_at };
  }

  async createDeploymentStatus(id: number, input: { state: DeploymentState; description: string }): Promise<void> {
    await call(`deployment ${id} status`, () => this.octokit.rest.repos.createDeploymentStatus({ ...this.id, deployment_id: id, state: input.state, description: input.description.slice(0, 140) }));
  }

  async listDeployments(environment: string, options: { limit?: number } = {}): Promise<Deployment[]> {
    const limit = options.limit ?? 100;
    const out: Deployment[] = [];
    await call("list deployments", async () => {
      for await (const page of this.octokit.paginate.iterator(this.octokit.rest.repos.listDeployments, { ...this.id, environment, per_page: Math.min(100, limit) })) {
        out.push(...page.data.map((d) => ({ id: d.id, sha: d.sha, ref: d.ref, environment: d.environment, createdAt: d.created_at })));
        if (out.length >= limit) break;
      }
    });
    return out.slice(0, limit);
  }

  async listDeploymentStatuses(id: number): Promise<DeploymentStatus[]> {
    const statuses = await call(`deployment ${id} statuses`, () => this.octokit.paginate(this.octokit.rest.repos.listDeploymentStatuses, { ...this.id, deployment_id: id, per_page: 100 }));
    return statuses.map((s) => ({ state: s.state as DeploymentState, createdAt: s.created_at, description: s.description ?? "" }));
  }
}
