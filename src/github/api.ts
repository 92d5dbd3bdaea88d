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
}

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
  createDeployment(input: { ref: string; environment: string; description: string }): Promise<Deployment>;
  createDeploymentStatus(id: number, input: { state: DeploymentState; description: string }): Promise<void>;
  listDeployments(environment: string): Promise<Deployment[]>;
  listDeploymentStatuses(id: number): Promise<DeploymentStatus[]>;
}
