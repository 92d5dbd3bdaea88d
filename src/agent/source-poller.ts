/**
 * One head check per git source per interval, shared by every Environment that reads the source, as
 * Flux's GitRepository polls once for all the Kustomizations that use it. Each Environment says which
 * source its last run read and its interval (`follow`); the source is checked once per the shortest of
 * its readers' intervals, counted from the newest check anyone made (a webhook-triggered run's check
 * postpones the poll, a failed check counts too, so a failing server is asked once per interval, never
 * in a loop). What a check found (a moved head, a failure) is the adapter's to report: the agent wakes
 * the readers whose revision is not the head (controller.ts).
 *
 * Pure scheduling: the clock, the timer and the check are injected, so tests drive it with a fake clock.
 */

export interface PollClock {
  /** Monotonic milliseconds. */
  now(): number;
  /** Runs `fn` after `ms`; returns a function that cancels it. */
  after(ms: number, fn: () => void): () => void;
}

export interface PollTarget<R> {
  /** The source a reference belongs to (repository, branch and credentials for git). */
  key(ref: R): string;
  /** When the newest head check of the source started, by anyone, whatever its outcome (undefined: none yet). */
  lastCheckAt(ref: R): number | undefined;
  /** One head check now. */
  check(ref: R): Promise<void>;
}

interface Polled<R> {
  ref: R;
  /** Reader → its interval (ms). */
  readers: Map<string, number>;
  /** When the source was first followed, or the poller's own last check started. */
  since: number;
  cancel?: () => void;
  checking: boolean;
}

export class SourcePoller<R> {
  private readonly sources = new Map<string, Polled<R>>();
  private readonly readerSource = new Map<string, string>();

  constructor(private readonly target: PollTarget<R>, private readonly clock: PollClock, private readonly onError: (error: unknown) => void = () => undefined) {}

  /** `reader` reads `ref` and wants it checked at least every `intervalMs`. A reader follows one source at a time. */
  follow(reader: string, ref: R, intervalMs: number): void {
    const key = this.target.key(ref);
    if (this.readerSource.get(reader) !== key) this.unfollow(reader);
    let source = this.sources.get(key);
    if (!source) {
      // No check at once: the reader's own run is checking the source right now.
      source = { ref, readers: new Map(), since: this.clock.now(), checking: false };
      this.sources.set(key, source);
    }
    const before = source.readers.size > 0 ? this.period(source) : undefined;
    source.ref = ref;
    source.readers.set(reader, intervalMs);
    this.readerSource.set(reader, key);
    if (!source.cancel || this.period(source) !== before) this.schedule(key, source);
  }

  unfollow(reader: string): void {
    const key = this.readerSource.get(reader);
    if (key === undefined) return;
    this.readerSource.delete(reader);
    const source = this.sources.get(key);
    if (!source) return;
    const before = this.period(source);
    source.readers.delete(reader);
    if (source.readers.size === 0) {
      source.cancel?.();
      this.sources.delete(key);
    } else if (this.period(source) !== before) this.schedule(key, source);
  }

  /** The readers of a source (by its key). */
  readers(key: string): string[] {
    return [...(this.sources.get(key)?.readers.keys() ?? [])];
  }

  /** The source a reader follows. */
  sourceOf(reader: string): string | undefined {
    return this.readerSource.get(reader);
  }

  /** Forgets every source and reader (leadership ended): nothing is checked any more. */
  stop(): void {
    for (const source of this.sources.values()) source.cancel?.();
    this.sources.clear();
    this.readerSource.clear();
  }

  private period(source: Polled<R>): number {
    return Math.min(...source.readers.values());
  }

  private due(source: Polled<R>): number {
    return Math.max(source.since, this.target.lastCheckAt(source.ref) ?? -Infinity) + this.period(source);
  }

  private schedule(key: string, source: Polled<R>): void {
    source.cancel?.();
    source.cancel = undefined;
    if (source.checking) return; // scheduled again when the check ends
    const wait = Math.max(0, this.due(source) - this.clock.now());
    source.cancel = this.clock.after(wait, () => this.tick(key, source));
  }

  private tick(key: string, source: Polled<R>): void {
    source.cancel = undefined;
    if (this.sources.get(key) !== source) return; // unfollowed meanwhile
    // Someone else checked since this was scheduled: the poll moves to one period after that check.
    if (this.due(source) > this.clock.now()) {
      this.schedule(key, source);
      return;
    }
    source.checking = true;
    source.since = this.clock.now();
    Promise.resolve().then(() => this.target.check(source.ref)).catch(this.onError).finally(() => {
      source.checking = false;
      if (this.sources.get(key) === source) this.schedule(key, source);
    });
  }
}
