/**
 * Leader election with a coordination.k8s.io/v1 Lease, so two agent replicas never apply at once.
 * The holder renews every `renewMs`; others take over once `leaseDurationSeconds` passed without renewal.
 * Writes use the Lease's resourceVersion, so two candidates cannot both win the same round.
 */
import type { KubeObject } from "../config/objects.js";
import { KubeApiError, type KubeClient } from "../kube/client.js";
import type { Logger } from "../log.js";

export interface LeaderOptions {
  namespace: string;
  name: string;
  identity: string;
  leaseDurationSeconds?: number;
  renewMs?: number;
}

interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  renewTime?: string;
  acquireTime?: string;
  leaseTransitions?: number;
}

const microTime = (d: Date) => d.toISOString().replace("Z", "000Z");

export class LeaderElector {
  private leading = false;
  private timer?: NodeJS.Timeout;
  private stopped = false;

  constructor(private readonly client: KubeClient, private readonly options: LeaderOptions, private readonly log: Logger, private readonly onChange: (leading: boolean) => void) {}

  isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    const tick = async () => {
      if (this.stopped) return;
      const leading = await this.tryAcquireOrRenew().catch((e: unknown) => {
        this.log.warn({ err: e instanceof Error ? e.message : String(e) }, "leader election round failed");
        return false;
      });
      if (leading !== this.leading) {
        this.leading = leading;
        this.log.info({ action: "leader", identity: this.options.identity }, leading ? "became leader" : "lost leadership");
        this.onChange(leading);
      }
      if (!this.stopped) this.timer = setTimeout(tick, this.options.renewMs ?? 2000);
    };
    void tick();
  }

  /** Stops renewing and, when leading, releases the lease so a standby takes over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.leading) {
      this.leading = false;
      const lease = await this.client.get("coordination.k8s.io/v1", "Lease", this.options.namespace, this.options.name).catch(() => undefined);
      const spec = lease?.spec as LeaseSpec | undefined;
      if (lease && spec?.holderIdentity === this.options.identity) {
        await this.client.replace({ ...lease, spec: { ...spec, holderIdentity: undefined, renewTime: undefined, leaseDurationSeconds: 1 } }).catch(() => undefined);
      }
    }
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const { namespace, name, identity } = this.options;
    const duration = this.options.leaseDurationSeconds ?? 15;
    const now = new Date();
    const existing = await this.client.get("coordination.k8s.io/v1", "Lease", namespace, name);
    if (!existing) {
      try {
        await this.client.create({ apiVersion: "coordination.k8s.io/v1", kind: "Lease", metadata: { name, namespace }, spec: { holderIdentity: identity, leaseDurationSeconds: duration, acquireTime: microTime(now), renewTime: microTime(now), leaseTransitions: 0 } });
        return true;
      } catch (e) {
        if (e instanceof KubeApiError && e.status === 409) return false;
        throw e;
      }
    }
    const spec = (existing.spec ?? {}) as LeaseSpec;
    const renewed = spec.renewTime ? Date.parse(spec.renewTime) : 0;
    const expired = renewed + (spec.leaseDurationSeconds ?? duration) * 1000 < now.getTime();
    const mine = spec.holderIdentity === identity;
    if (!mine && spec.holderIdentity && !expired) return false;
    const next: KubeObject = {
      ...existing,
      spec: {
        ...spec, holderIdentity: identity, leaseDurationSeconds: duration, renewTime: microTime(now),
        ...(mine ? {} : { acquireTime: microTime(now), leaseTransitions: (spec.leaseTransitions ?? 0) + 1 }),
      },
    };
    try {
      await this.client.replace(next); // carries resourceVersion: a concurrent winner makes this 409
      return true;
    } catch (e) {
      if (e instanceof KubeApiError && e.status === 409) return false;
      throw e;
    }
  }
}
