/**
 * Step 6, health: waited for up to spec.timeout. A newer commit must not wait behind this rollout, so
 * every few polls one ls-remote-sized request checks the branch; the end of the term (lost leadership,
 * shutdown) cuts the wait short without a verdict. The first polls come soon (healthPollDelay): a small
 * rollout is often done within a few hundred milliseconds, and a fixed one-second sleep added up to a
 * second to every push that rolls a Deployment out.
 */
import { parseDuration } from "../../config/duration.js";
import { sleep } from "../../util/pool.js";
import type { Fetched, HealthOutcome, Planned, StepContext } from "./context.js";

type Polled = Awaited<ReturnType<StepContext["manager"]["health"]>>;

/** The first poll after 100 ms, each next one after twice as long, at most `periodMs` apart (poll counts from 1). */
export function healthPollDelay(poll: number, periodMs: number): number {
  return Math.min(periodMs, 100 * 2 ** Math.min(poll - 1, 20));
}

const waitingFor = (health: Polled): string => health.results.filter((r) => r.health.status !== "Current").map((r) => `${r.object}: ${r.health.message}`).join("; ");

export async function healthStep(ctx: StepContext, fetched: Fetched, planned: Planned): Promise<HealthOutcome> {
  const deadline = Date.now() + (parseDuration(ctx.spec.timeout) ?? 120_000);
  let health = await ctx.manager.health(planned.desired);
  // What the last poll was still waiting for (the Reconciling condition's message while it waited).
  let waited: string | undefined;
  let superseded = false;
  // From here on the run only polls: its slot in the agent's work queue goes to another Environment.
  if (health.status === "InProgress") ctx.onWaiting?.();
  for (let polls = 1; health.status === "InProgress" && Date.now() < deadline && !ctx.signal?.aborted; polls++) {
    // Environments waiting on one repository share the check (at most one request per five polls among them).
    const source = { url: ctx.spec.url, branch: ctx.spec.branch, ...(fetched.credentials.git ? { auth: fetched.credentials.git } : {}) };
    if (polls % 5 === 0 && (await ctx.sources.head(source, { ...ctx.git, maxAgeMs: 5 * ctx.healthPollMs }).catch(() => fetched.revision)) !== fetched.revision) {
      superseded = true;
      break;
    }
    waited = `waiting for ${waitingFor(health)}`.slice(0, 1000);
    await sleep(healthPollDelay(polls, ctx.healthPollMs), ctx.signal);
    health = await ctx.manager.health(planned.desired);
  }
  if (ctx.signal?.aborted) return { kind: "interrupted" };
  if (superseded) return { kind: "superseded", ...(waited === undefined ? {} : { waited }) };
  return { kind: "settled", status: health.status, notReady: waitingFor(health), ...(waited === undefined ? {} : { waited }) };
}
