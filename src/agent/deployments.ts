/**
 * GitHub Deployments for applied revisions: the agent records each new revision of an Environment as a
 * deployment with `in_progress`, then `success` or `failure` after the health check. GitHub's environment
 * view becomes the deployment history, and `baton promote` reads soak time from it without cluster access.
 * Every failure here is logged and ignored: GitHub being down never blocks a deploy.
 * A deployment left `in_progress` by a replica that lost its lease or shut down mid-rollout is resumed,
 * not duplicated: the next leader concludes that same deployment.
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
        const resumed = await unfinished(github, environment, revision);
        if (resumed !== undefined) {
          log.info({ action: "github-deployment", revision, id: resumed }, "resuming the deployment an interrupted reconcile left in progress");
          return resumed;
        }
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

/** The newest deployment of `revision` to `environment` whose latest status is still in progress. */
async function unfinished(github: GitHubApi, environment: string, revision: string): Promise<number | undefined> {
  const candidate = (await github.listDeployments(environment)).find((d) => d.sha === revision);
  if (!candidate) return undefined;
  const [latest] = await github.listDeploymentStatuses(candidate.id); // newest first, as GitHub returns them
  return latest && ["in_progress", "queued", "pending"].includes(latest.state) ? candidate.id : undefined;
}

/** A tracker when the Environment asks for GitHub deployments and its Secret holds `githubToken`. */
export function deploymentTracker(spec: EnvironmentSpec, envName: string, token: string | undefined, log: Logger): DeploymentTracker | undefined {
  if (!spec.github || !token) return undefined;
  const github = new OctokitGitHub({ token, repo: parseRepoId(spec.github.repository), ...(spec.github.apiUrl ? { baseUrl: spec.github.apiUrl } : {}) });
  return githubDeployments(github, spec.github.environment ?? envName, log);
}
