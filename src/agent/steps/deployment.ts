/**
 * The GitHub Deployment of one run (when the Environment asks for them): started once the plan shows a
 * new revision will be deployed, settled exactly once by the report, whichever way the run ends, so none
 * stays in_progress (which would block soak). A run whose term ended leaves it in progress for the next
 * leader, which resumes it.
 */
import { deploymentTracker, type DeploymentTracker } from "../deployments.js";
import type { Fetched, Planned, Rendered, StepContext } from "./context.js";

export type DeploymentState = "success" | "failure" | "inactive" | "pending";

export class RunDeployment {
  private tracker: DeploymentTracker | undefined;
  private id: number | undefined;
  private settled = false;

  constructor(private readonly ctx: StepContext) {}

  async start(fetched: Fetched, rendered: Rendered, planned: Planned): Promise<void> {
    const { revision } = fetched;
    if (!planned.deploys || this.ctx.env.status?.lastAppliedRevision === revision) return;
    this.tracker = deploymentTracker(this.ctx.spec, rendered.envSpec.name, fetched.credentials.githubToken, this.ctx.log);
    this.id = await this.tracker?.started(revision, `baton applies ${revision.slice(0, 12)} to ${rendered.envSpec.name}`);
  }

  async finish(state: DeploymentState, description: string): Promise<void> {
    if (this.settled || this.ctx.signal?.aborted) return;
    this.settled = true;
    if (this.tracker && this.id !== undefined) await this.tracker.finished(this.id, state, description);
  }
}
