/**
 * GitHubApi over @octokit/rest. Works against github.com and GitHub Enterprise (`baseUrl`, e.g.
 * https://ghe.example.com/api/v3) — the tests use the same path with a local double's URL.
 */
import { Octokit } from "@octokit/rest";
import { createAppAuth } from "@octokit/auth-app";
import { BatonError } from "../errors.js";
import type { Deployment, DeploymentState, DeploymentStatus, GitHubApi, PullRequest } from "./api.js";
import type { RepoId } from "./remote.js";

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
}

interface RawPull {
  number: number;
  html_url: string;
  title: string;
  body?: string | null;
  state: string;
  head: { ref: string };
  base: { ref: string };
  labels: Array<{ name?: string } | string>;
}

function toPull(p: RawPull): PullRequest {
  return {
    number: p.number, url: p.html_url, title: p.title, body: p.body ?? "", head: p.head.ref, base: p.base.ref,
    labels: p.labels.map((l) => (typeof l === "string" ? l : l.name ?? "")).filter(Boolean),
    state: p.state === "open" ? "open" : "closed",
  };
}

/** Every octokit failure becomes one GITHUB_FAILED line with the HTTP status and what was attempted. */
async function call<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    const status = typeof e === "object" && e !== null && "status" in e ? Number((e as { status: unknown }).status) : undefined;
    const hint = status === 401 ? "check GITHUB_TOKEN" : status === 403 ? "the token lacks permission (needs contents, pull-requests, statuses, deployments: write)" : status === 404 ? "check --github-repo / the origin remote and --github-url" : "retry; check --github-url and network access";
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
  if (data && typeof data === "object" && typeof (data as { message?: unknown }).message === "string") return (data as { message: string }).message.slice(0, 300);
  if (typeof err?.code === "string" && /^E[A-Z]+$/.test(err.code)) return `network error ${err.code}`;
  if (err?.status !== undefined) return "the response was not a GitHub API error";
  return e instanceof Error && e.name !== "HttpError" ? e.message.split("\n")[0]?.slice(0, 300) ?? "unknown error" : "unknown error";
}

export class OctokitGitHub implements GitHubApi {
  readonly repository: string;
  private readonly octokit: Octokit;
  private readonly id: RepoId;

  constructor(options: OctokitOptions) {
    this.id = options.repo;
    this.repository = `${options.repo.owner}/${options.repo.repo}`;
    const auth = options.app ? { authStrategy: createAppAuth, auth: { ...options.app } } : { auth: options.token };
    this.octokit = new Octokit({ ...auth, userAgent: "baton", ...(options.baseUrl ? { baseUrl: options.baseUrl.replace(/\/+$/, "") } : {}), log: { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined } });
  }

  async findOpenPull(head: string): Promise<PullRequest | undefined> {
    const pulls = await call("list pulls", () => this.octokit.rest.pulls.list({ ...this.id, state: "open", head: `${this.id.owner}:${head}`, per_page: 100 }));
    const match = pulls.data.find((p) => p.head.ref === head);
    return match ? toPull(match) : undefined;
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

  async listDeployments(environment: string): Promise<Deployment[]> {
    const res = await call("list deployments", () => this.octokit.rest.repos.listDeployments({ ...this.id, environment, per_page: 100 }));
    return res.data.map((d) => ({ id: d.id, sha: d.sha, ref: d.ref, environment: d.environment, createdAt: d.created_at }));
  }

  async listDeploymentStatuses(id: number): Promise<DeploymentStatus[]> {
    const res = await call(`deployment ${id} statuses`, () => this.octokit.rest.repos.listDeploymentStatuses({ ...this.id, deployment_id: id, per_page: 100 }));
    return res.data.map((s) => ({ state: s.state as DeploymentState, createdAt: s.created_at, description: s.description ?? "" }));
  }
}
