/**
 * GitHub Deployments for applied revisions: the agent records each new revision of an Environment as a
 * deployment with `in_progress`, then `success` or `failure` after the health check. GitHub's environment
 * view becomes the deployment history, and `baton promote` reads soak time from it without cluster access.
 * Every failure here is logged and ignored: GitHub being down never blocks a deploy.
 */
import type { GitHubApi } from "../github/api.js";
import { OctokitGitHub } from "../github/octokit.js";
import { parseRepoId } from "../github/remote.js";
import type { Logger } from "../log.js";
import type { EnvironmentSpec } from "./environment.js";

export interface DeploymentTracker {
  started(revision: string, description: string): Promise<number | undefined>;
  /** `pending`: healthy, but the release waits for confirmation (CI can wait for exactly that). */
  finished(id: number, state: "success" | "failure" | "inactive" | "pending", description: string): Promise<void>;
}

export function githubDeployments(github: GitHubApi, environment: string, log: Logger): DeploymentTracker {
  return {
    async started(revision, description) {
      try {
        const deployment = await github.createDeployment({ ref: revision, environment, description });
        await github.createDeploymentStatus(deployment.id, { state: "in_progress", description });
        return deployment.id;
      } catch (e) {
        log.warn({ action: "github-deployment", revision, err: e instanceof Error ? e.message : String(e) }, "could not create GitHub deployment (ignored)");
        return undefined;
      }
    },
    async finished(id, state, description) {
      try {
        await github.createDeploymentStatus(id, { state, description: description.slice(0, 140) });
      } catch (e) {
        log.warn({ action: "github-deployment", id, err: e instanceof Error ? e.message : String(e) }, "could not update GitHub deployment (ignored)");
      }
    },
  };
}

/** A tracker when the Environment asks for GitHub deployments and its Secret holds `githubToken`. */
export function deploymentTracker(spec: EnvironmentSpec, envName: string, token: string | undefined, log: Logger): DeploymentTracker | undefined {
  if (!spec.github || !token) return undefined;
  const github = new OctokitGitHub({ token, repo: parseRepoId(spec.github.repository), ...(spec.github.apiUrl ? { baseUrl: spec.github.apiUrl } : {}) });
  return githubDeployments(github, spec.github.environment ?? envName, log);
}
