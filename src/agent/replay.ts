/**
 * Webhook hygiene: a bounded memory of accepted deliveries (so a replayed request triggers nothing) and
 * a rate limit for logging rejected requests (so a flood of bad signatures cannot flood the logs).
 * Both are a few lines over a Map; a cache library would add a dependency for less than it saves.
 */
import { createHash } from "node:crypto";

/**
 * The last `capacity` deliveries, keyed by GitHub's `X-GitHub-Delivery` id *and* by the digest of the
 * body: the signature covers only the body, so a replay under a fresh (or no) delivery id is caught too.
 * Oldest entries go first (a Map iterates in insertion order). A replay older than `capacity` deliveries
 * gets through: GitHub signs no timestamp, so that is as far as a bounded memory can go.
 */
export class DeliveryLog {
  private readonly seen = new Map<string, true>();

  constructor(private readonly capacity = 1000) {}

  private static keys(delivery: string | undefined, body: Buffer): string[] {
    const digest = `body:${createHash("sha256").update(body).digest("hex")}`;
    return delivery ? [`id:${delivery}`, digest] : [digest];
  }

  /**
   * Records a delivery before it is handled, so two copies arriving together cannot both pass; false
   * when it was seen already. Call `release` if handling failed, so GitHub's redelivery is accepted.
   */
  claim(delivery: string | undefined, body: Buffer): boolean {
    const keys = DeliveryLog.keys(delivery, body);
    if (keys.some((k) => this.seen.has(k))) return false;
    for (const k of keys) this.seen.set(k, true);
    while (this.seen.size > this.capacity * 2) this.seen.delete(this.seen.keys().next().value as string);
    return true;
  }

  release(delivery: string | undefined, body: Buffer): void {
    for (const k of DeliveryLog.keys(delivery, body)) this.seen.delete(k);
  }
}

/** Lets one event through per window and counts the rest, reported with the next one let through. */
export class RateLimiter {
  private last = -Infinity;
  private suppressed = 0;

  constructor(private readonly windowMs = 10_000, private readonly now: () => number = Date.now) {}

  /** undefined: stay quiet; otherwise how many were suppressed since the last one let through. */
  take(): number | undefined {
    const t = this.now();
    if (t - this.last < this.windowMs) {
      this.suppressed++;
      return undefined;
    }
    this.last = t;
    const n = this.suppressed;
    this.suppressed = 0;
    return n;
  }
}
