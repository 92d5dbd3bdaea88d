/**
 * What /readyz answers, from the agent's real state rather than "the process is up":
 * - a standby is ready while it can read the Lease (it hands webhooks to the leader, so it needs the API server);
 * - a leader (or a single replica) is ready while its control loop lists Environments: the last successful
 *   list is at most a few resync periods old. A term that just began gets the same window to list once.
 */
export interface ReadinessInput {
  /** Monotonic now (performance.now). */
  now: number;
  /** Leader election is on and this replica is not leading. */
  standby: boolean;
  /** Monotonic time of the last successful read of the Lease (standby), 0 if never. */
  lastLeaseContact: number;
  /** Monotonic time of the last successful Environment list, or of the term's start; 0 when not reconciling. */
  lastResync: number;
  resyncMs: number;
  leaseDurationMs: number;
}

export function readiness(s: ReadinessInput): { ready: boolean; reason: string } {
  const ago = (t: number) => `${Math.round((s.now - t) / 1000)} s ago`;
  if (s.standby) {
    const window = 2 * s.leaseDurationMs;
    if (s.lastLeaseContact > 0 && s.now - s.lastLeaseContact <= window) return { ready: true, reason: "standby: the lease is readable" };
    return { ready: false, reason: s.lastLeaseContact > 0 ? `standby: last read the lease ${ago(s.lastLeaseContact)}` : "standby: has not read the lease yet" };
  }
  const window = Math.max(3 * s.resyncMs, 30_000);
  if (s.lastResync > 0 && s.now - s.lastResync <= window) return { ready: true, reason: "reconciling: Environments watched" };
  return { ready: false, reason: s.lastResync > 0 ? `reconciling: Environments last current ${ago(s.lastResync)} (list or watch failing)` : "not reconciling" };
}
