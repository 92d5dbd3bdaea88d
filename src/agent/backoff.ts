/** When to reconcile next: the interval with ±10% jitter after success, exponential backoff after failure. */
export function nextDelay(intervalMs: number, consecutiveFailures: number, random: () => number = Math.random): number {
  if (consecutiveFailures > 0) {
    const backoff = Math.min(intervalMs, 2000 * 2 ** (consecutiveFailures - 1));
    return Math.round(backoff * (0.9 + 0.2 * random()));
  }
  return Math.round(intervalMs * (0.9 + 0.2 * random()));
}
