/**
 * The agent's reconcile queue, after controller-runtime's workqueue: keys wait in order, at most `workers`
 * of them are worked on at once across all Environments (so 200 new Environments do not clone, render and
 * apply all at once), and one key is never worked on twice at the same time. A key added while it is being
 * worked on is marked dirty and runs once more afterwards, however often it was added meanwhile.
 *
 * A run that only waits (a rollout's health wait, which can last spec.timeout) gives its worker back with
 * `release()`: waiting Environments hold no slot, so a few slow rollouts never stall every other one. The
 * key stays in flight until its run ends, so it is still never run twice at once.
 */

export type WorkFn = (key: string, release: () => void) => Promise<void>;

/** Keys waiting for a worker, keys in flight, and runs holding a worker (in flight and not released). */
export interface QueueStats {
  waiting: number;
  inFlight: number;
  busy: number;
}

export interface WorkQueueOptions {
  onError?: (key: string, error: unknown) => void;
  /** A worker took `key`, `waitedMs` after it was queued (metrics). */
  onStart?: (key: string, waitedMs: number) => void;
  /** Monotonic milliseconds; injected by tests. */
  now?: () => number;
}

export class WorkQueue {
  private readonly waiting: string[] = [];
  /** Queued keys, with when they were queued. */
  private readonly queued = new Map<string, number>();
  private readonly inFlight = new Set<string>();
  private readonly dirty = new Set<string>();
  /** Runs holding a worker (in flight and not released). */
  private busy = 0;
  private stopped = false;

  private readonly now: () => number;

  constructor(private readonly workers: number, private readonly work: WorkFn, private readonly options: WorkQueueOptions = {}) {
    this.now = options.now ?? (() => performance.now());
    if (!Number.isInteger(workers) || workers < 1) throw new RangeError(`workers must be a positive integer, got ${workers}`);
  }

  /** Queues `key` (once), or marks it to run again when it is in flight. */
  add(key: string): void {
    if (this.stopped) return;
    if (this.inFlight.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.queued.has(key)) return;
    this.queued.set(key, this.now());
    this.waiting.push(key);
    this.pump();
  }

  /** Drops a key that waits or was marked dirty (its Environment was deleted); a run in flight ends on its own. */
  forget(key: string): void {
    this.dirty.delete(key);
    if (!this.queued.delete(key)) return;
    this.waiting.splice(this.waiting.indexOf(key), 1);
  }

  /** Stops handing out work: nothing queued or dirty runs any more; runs in flight end on their own. */
  shutDown(): void {
    this.stopped = true;
    this.waiting.length = 0;
    this.queued.clear();
    this.dirty.clear();
  }

  /** Keys waiting for a worker, keys in flight, and runs holding a worker (metrics, tests). */
  stats(): QueueStats {
    return { waiting: this.waiting.length, inFlight: this.inFlight.size, busy: this.busy };
  }

  private pump(): void {
    while (!this.stopped && this.busy < this.workers && this.waiting.length > 0) {
      const key = this.waiting.shift() as string;
      const queuedAt = this.queued.get(key) ?? this.now();
      this.queued.delete(key);
      this.options.onStart?.(key, this.now() - queuedAt);
      this.inFlight.add(key);
      this.busy++;
      let holding = true;
      const release = () => {
        if (!holding) return;
        holding = false;
        this.busy--;
        this.pump();
      };
      void Promise.resolve().then(() => this.work(key, release)).catch((e: unknown) => this.options.onError?.(key, e)).finally(() => {
        this.inFlight.delete(key);
        release();
        if (this.dirty.delete(key)) this.add(key);
      });
    }
  }
}
