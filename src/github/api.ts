/**
 * The narrow slice of GitHub that Baton uses. Orchestration code depends on this interface only; the
 * octokit implementation lives in octokit.ts, and tests talk to a local double through the same octokit.
 */
export interface PullRequest {
  number: number;
  url: string;
  title: string;
  body: string;
  head: string;
  base: string;
  labels: string[];
  state: "open" | "closed";
  /** The head branch's commit (absent when the branch is gone). */
  headSha?: string;
  merged?: boolean;
}

export type MergeMethod = "merge" | "squash" | "rebase";

export interface Deployment {
  id: number;
  sha: string;
  ref: string;
  environment: string;
  createdAt: string;
}

export type DeploymentState = "in_progress" | "success" | "failure" | "error" | "inactive" | "queued" | "pending";

export interface DeploymentStatus {
  state: DeploymentState;
  createdAt: string;
  description: string;
}

export interface GitHubApi {
  /** "owner/name", for messages. */
  readonly repository: string;
  findOpenPull(head: string): Promise<PullRequest | undefined>;
  openPull(input: { head: string; base: string; title: string; body: string }): Promise<PullRequest>;
  updatePull(number: number, input: { title?: string; body?: string }): Promise<PullRequest>;
  closePull(number: number): Promise<void>;
  comment(number: number, body: string): Promise<void>;
  addLabels(number: number, labels: string[]): Promise<void>;
  /** Open pulls, optionally only those carrying `label`. */
  listOpenPulls(label?: string): Promise<PullRequest[]>;
  setCommitStatus(sha: string, input: { state: "pending" | "success" | "failure" | "error"; context: string; description: string; targetUrl?: string }): Promise<void>;
  getPull(number: number): Promise<PullRequest>;
  /** Merge methods the repository allows, in GitHub's order (merge, squash, rebase). */
  mergeMethods(): Promise<MergeMethod[]>;
  /**
   * Merges through GitHub (branch protection applies). `sha`: merge only if the head is still this commit.
   * GitHub's refusal becomes a GITHUB_MERGE_REFUSED error carrying GitHub's one-line reason.
   */
  mergePull(number: number, input: { method: MergeMethod; sha?: string }): Promise<{ sha: string }>;
  /** Numbers of the merged pull requests that brought `sha` in (GitHub associates rebased commits too). */
  pullsForCommit(sha: string): Promise<number[]>;
  /** The newest state of `context` on a commit, or undefined when none was reported. */
  commitStatus(sha: string, context: string): Promise<{ state: string; description: string } | undefined>;
  createDeployment(input: { ref: string; environment: string; description: string }): Promise<Deployment>;
  createDeploymentStatus(id: number, input: { state: DeploymentState; description: string }): Promise<void>;
  /** Newest first; at most `limit` (default 100), reading as many pages as needed. */
  listDeployments(environment: string, options?: { limit?: number }): Promise<Deployment[]>;
  /** Newest first, every page. */
  listDeploymentStatuses(id: number): Promise<DeploymentStatus[]>;
}
