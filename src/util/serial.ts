/**
 * Work that must happen in order per key but that nobody waits for (the agent's Events): each key's tasks
 * run one after another in the order they were added, and keys do not wait for each other. A failed task
 * does not stop the ones after it (tasks handle their own errors; a rejection is swallowed here). At most
 * `maxPending` tasks wait per key: beyond that a new one is refused, so an API that hangs cannot make the
 * backlog grow without bound.
 */
export class KeyedSerialQueue {
  private readonly keys = new Map<string, { tail: Promise<void>; pending: number }>();

  constructor(private readonly maxPending = 100) {}

  /** Queues `task` behind the key's earlier tasks: the promise settles (never rejects) when it has run; undefined when refused. */
  add(key: string, task: () => Promise<void>): Promise<void> | undefined {
    const entry = this.keys.get(key) ?? { tail: Promise.resolve(), pending: 0 };
    if (entry.pending >= this.maxPending) return undefined;
    entry.pending++;
    const run = entry.tail.then(task).catch(() => undefined).finally(() => {
      entry.pending--;
      if (entry.pending === 0 && this.keys.get(key) === entry) this.keys.delete(key);
    });
    entry.tail = run;
    this.keys.set(key, entry);
    return run;
  }

  /** Settles once every task of `key` added so far has run. */
  idle(key: string): Promise<void> {
    return this.keys.get(key)?.tail ?? Promise.resolve();
  }
}
