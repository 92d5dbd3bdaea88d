/**
 * Sharding: several agents (`--shard i --shards n`) split the Environments between them. Each Environment
 * belongs to exactly one shard, chosen by a stable hash of its namespace and name: every replica and every
 * Baton version computes the same owner without talking to the others, and adding an Environment never
 * moves another one. Each shard elects its own leader (one Lease per shard), so a shard fails over to its
 * standby while the other shards carry on.
 */
import { createHash } from "node:crypto";

export interface Shard {
  /** 0-based index of this agent's shard. */
  index: number;
  /** Number of shards (1 = no sharding). */
  count: number;
}

/** The shard (0 … count-1) that owns the Environment `namespace/name`. Never change: Environments would move. */
export function shardOf(key: string, count: number): number {
  return createHash("sha256").update(key).digest().readUInt32BE(0) % count;
}

export function ownsEnvironment(shard: Shard | undefined, key: string): boolean {
  return !shard || shard.count <= 1 || shardOf(key, shard.count) === shard.index;
}

/** The leader-election Lease of a shard: the plain name without sharding, so a single agent keeps its Lease. */
export function shardLeaseName(leaseName: string, shard: Shard): string {
  return shard.count <= 1 ? leaseName : `${leaseName}-shard-${shard.index}`;
}
