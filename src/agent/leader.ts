/**
 * Leader election with a coordination.k8s.io/v1 Lease, with client-go's semantics, so two agent replicas
 * never write at once:
 *
 * - Three durations: lease duration > renew deadline > retry period.
 * - A candidate judges expiry by *when it observed* the lease record change, on its own monotonic clock,
 *   never by comparing the holder's renewTime with its local clock (clocks of two nodes may differ by
 *   more than a lease).
 * - The leader counts its term from the *start* of its last successful renew request; once the renew
 *   deadline passed without another, it stops leading, even while a renew request still hangs. Since
 *   every candidate waits a full lease duration after it observed that renew, the old leader has stopped
 *   before anyone may take over.
 * - Each term has an AbortSignal; the agent binds its writes to it, so losing the lease cancels requests
 *   in flight and refuses new ones.
 * Writes carry the Lease's resourceVersion, so two candidates cannot both win one round.
 */
import { BatonError } from "../errors.js";
import type { KubeObject } from "../config/objects.js";
import { KubeApiError, type KubeClient } from "../kube/client.js";
import type { Logger } from "../log.js";
import { sleep } from "../util/pool.js";

export interface LeaderTimings {
  /** How long a candidate waits after it last saw the lease change before taking it over. */
  leaseDurationMs: number;
  /** How long the leader keeps leading without a successful renew. */
  renewDeadlineMs: number;
  /** Pause between attempts to acquire or renew. */
  retryPeriodMs: number;
}

/** client-go's factor: the renew deadline must leave room for more than one jittered retry. */
const JITTER = 1.2;

/** client-go's rules; a violation is a flag error the operator sees at startup. */
export function validateTimings(t: LeaderTimings): LeaderTimings {
  const fail = (message: string) => {
    throw new BatonError("USAGE", message, { hint: "e.g. --lease-duration-seconds 15 --renew-deadline 10s --retry-period 2s (lease > renew deadline > 1.2 × retry period)" });
  };
  if (!(t.retryPeriodMs > 0)) fail("--retry-period must be positive");
  if (!(t.leaseDurationMs > t.renewDeadlineMs)) fail(`the lease duration (${t.leaseDurationMs} ms) must be longer than the renew deadline (${t.renewDeadlineMs} ms)`);
  if (!(t.renewDeadlineMs > JITTER * t.retryPeriodMs)) fail(`the renew deadline (${t.renewDeadlineMs} ms) must be longer than ${JITTER} × the retry period (${t.retryPeriodMs} ms)`);
  return t;
}

/** Defaults derived from the lease duration as client-go's 15 s / 10 s / 2 s. */
export function defaultTimings(leaseDurationSeconds: number, renewDeadlineMs?: number, retryPeriodMs?: number): LeaderTimings {
  const leaseDurationMs = leaseDurationSeconds * 1000;
  return validateTimings({ leaseDurationMs, renewDeadlineMs: renewDeadlineMs ?? Math.round((leaseDurationMs * 2) / 3), retryPeriodMs: retryPeriodMs ?? Math.round(leaseDurationMs / 7.5) });
}

export interface Clock {
  /** Milliseconds that only move forward (performance.now): measures leases and deadlines. */
  monotonic(): number;
  /** Wall time, written into the Lease for humans (kubectl) and never used to judge expiry. */
  wall(): Date;
}

export const systemClock: Clock = { monotonic: () => performance.now(), wall: () => new Date() };

export interface LeaderOptions {
  namespace: string;
  name: string;
  identity: string;
  timings: LeaderTimings;
  clock?: Clock;
}

export interface LeaderCallbacks {
  /** Called when this replica becomes leader; `signal` aborts when the term ends. */
  onStartedLeading(signal: AbortSignal): void;
  /** Called when the term ends (renew deadline passed, lease taken, or stop()). */
  onStoppedLeading(): void;
}

interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  renewTime?: string;
  acquireTime?: string;
  leaseTransitions?: number;
}

const microTime = (d: Date) => d.toISOString().replace("Z", "000Z");

/** What a candidate compares between rounds: any change means the holder is alive. */
const recordKey = (lease: KubeObject): string => JSON.stringify([lease.metadata.resourceVersion, lease.spec]);

export class LeaderElector {
  private readonly clock: Clock;
  private term?: AbortController;
  /** Monotonic time until which the current term is valid (start of the last successful renew + renew deadline). */
  private validUntil = 0;
  private expiryTimer?: NodeJS.Timeout;
  private observedKey?: string;
  private observedAt = 0;
  private readonly stopping = new AbortController();
  private loop?: Promise<void>;
  private lastContact = 0;

  constructor(private readonly client: KubeClient, private readonly options: LeaderOptions, private readonly log: Logger, private readonly callbacks: LeaderCallbacks) {
    validateTimings(options.timings);
    this.clock = options.clock ?? systemClock;
  }

  /** Monotonic time of the last successful read of the Lease (0: never): the API server was reachable. */
  lastContactAt(): number {
    return this.lastContact;
  }

  isLeader(): boolean {
    return this.term !== undefined && !this.term.signal.aborted;
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Stops campaigning and, when leading, ends the term and releases the lease so a standby takes over at once. */
  async stop(): Promise<void> {
    const wasLeading = this.isLeader();
    this.stopping.abort();
    this.endTerm("shutting down");
    await this.loop;
    if (wasLeading) await this.release();
  }

  private async run(): Promise<void> {
    const { retryPeriodMs } = this.options.timings;
    while (!this.stopping.signal.aborted) {
      const started = this.clock.monotonic();
      const won = await this.attempt(started);
      if (won && !this.isLeader() && !this.stopping.signal.aborted) this.beginTerm();
      else if (!won && this.isLeader()) this.endTerm("the lease is held by another replica");
      // client-go jitters acquire attempts so candidates do not retry in lockstep; renews use the plain period.
      await sleep(this.isLeader() ? retryPeriodMs : retryPeriodMs * (1 + Math.random() * (JITTER - 1)), this.stopping.signal);
    }
  }

  /** One round; true when this replica holds the lease after it. Failures count as "not renewed". */
  private async attempt(started: number): Promise<boolean> {
    const { renewDeadlineMs } = this.options.timings;
    // A renew request may take at most what is left of the term; an acquire at most one renew deadline.
    const timeoutMs = this.isLeader() ? this.validUntil - started : renewDeadlineMs;
    if (timeoutMs <= 0) return false;
    try {
      const won = await this.tryAcquireOrRenew(timeoutMs);
      if (won) this.extendTerm(started);
      return won;
    } catch (e) {
      this.log.warn({ action: "leader", err: e instanceof Error ? e.message : String(e) }, "leader election round failed");
      return this.isLeader(); // a failed renew keeps the term until its deadline (the expiry timer ends it)
    }
  }

  private beginTerm(): void {
    if (this.clock.monotonic() >= this.validUntil) return; // the winning answer came too late to lead on
    this.term = new AbortController();
    this.log.info({ action: "leader", identity: this.options.identity }, "became leader");
    this.callbacks.onStartedLeading(this.term.signal);
  }

  private extendTerm(requestStarted: number): void {
    this.validUntil = Math.max(this.validUntil, requestStarted + this.options.timings.renewDeadlineMs);
    clearTimeout(this.expiryTimer);
    this.expiryTimer = setTimeout(() => this.endTerm("could not renew the lease within the renew deadline"), Math.max(0, this.validUntil - this.clock.monotonic()));
  }

  private endTerm(reason: string): void {
    clearTimeout(this.expiryTimer);
    this.validUntil = 0;
    const term = this.term;
    if (!term || term.signal.aborted) return;
    term.abort(new Error(`leadership lost: ${reason}`));
    this.log.info({ action: "leader", identity: this.options.identity, reason }, "lost leadership");
    this.callbacks.onStoppedLeading();
  }

  private async tryAcquireOrRenew(timeoutMs: number): Promise<boolean> {
    const { namespace, name, identity, timings } = this.options;
    const client = this.client.withSignal(AbortSignal.any([AbortSignal.timeout(Math.max(1, Math.ceil(timeoutMs))), this.stopping.signal]));
    const duration = Math.ceil(timings.leaseDurationMs / 1000);
    const now = this.clock.wall();
    const existing = await client.get("coordination.k8s.io/v1", "Lease", namespace, name);
    this.lastContact = this.clock.monotonic();
    if (!existing) {
      const lease: KubeObject = { apiVersion: "coordination.k8s.io/v1", kind: "Lease", metadata: { name, namespace }, spec: { holderIdentity: identity, leaseDurationSeconds: duration, acquireTime: microTime(now), renewTime: microTime(now), leaseTransitions: 0 } };
      return this.write(() => client.create(lease));
    }
    const key = recordKey(existing);
    if (key !== this.observedKey) {
      this.observedKey = key;
      this.observedAt = this.clock.monotonic();
    }
    const spec = (existing.spec ?? {}) as LeaseSpec;
    const mine = spec.holderIdentity === identity;
    const heldFor = (spec.leaseDurationSeconds ?? duration) * 1000;
    if (!mine && spec.holderIdentity && this.clock.monotonic() < this.observedAt + heldFor) return false;
    const next: KubeObject = {
      ...existing,
      spec: {
        ...spec, holderIdentity: identity, leaseDurationSeconds: duration, renewTime: microTime(now),
        ...(mine ? {} : { acquireTime: microTime(now), leaseTransitions: (spec.leaseTransitions ?? 0) + (spec.holderIdentity ? 1 : 0) }),
      },
    };
    return this.write(() => client.replace(next)); // carries resourceVersion: a concurrent winner makes this 409
  }

  private async write(send: () => Promise<KubeObject>): Promise<boolean> {
    try {
      const written = await send();
      this.observedKey = recordKey(written);
      this.observedAt = this.clock.monotonic();
      return true;
    } catch (e) {
      if (e instanceof KubeApiError && e.status === 409) return false;
      throw e;
    }
  }

  /** Gives the lease up (holder cleared, 1 s duration) so a standby need not wait out the lease. */
  private async release(): Promise<void> {
    const { namespace, name, identity, timings } = this.options;
    const client = this.client.withSignal(AbortSignal.timeout(timings.renewDeadlineMs));
    try {
      const lease = await client.get("coordination.k8s.io/v1", "Lease", namespace, name);
      const spec = lease?.spec as LeaseSpec | undefined;
      if (lease && spec?.holderIdentity === identity) {
        await client.replace({ ...lease, spec: { ...spec, holderIdentity: undefined, renewTime: undefined, leaseDurationSeconds: 1 } });
      }
    } catch (e) {
      this.log.warn({ action: "leader", err: e instanceof Error ? e.message : String(e) }, "could not release the lease; a standby takes over when it expires");
    }
  }
}
