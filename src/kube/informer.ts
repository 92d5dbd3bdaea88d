/**
 * List + watch of one kind in one namespace (or all), as client-go's informers do it: list once, then
 * watch from the list's resourceVersion and keep watching from the last one seen (bookmarks keep it
 * current); list again only when the server says the version is too old (410) or the watch failed.
 * A relist reports the objects that vanished while nobody watched. Written over KubeClient rather than
 * @kubernetes/client-node's informer so that the watch shares the client's leadership signal, User-Agent,
 * deadlines and request counts, and the agent does not load the generated API client.
 */
import type { Logger } from "../log.js";
import type { KubeObject } from "../config/objects.js";
import { sleep } from "../util/pool.js";
import { KubeApiError, type KubeClient } from "./client.js";

export interface InformerHandlers {
  /** An object was listed, added or changed. */
  upsert(obj: KubeObject): void;
  /** An object was deleted (or was gone at a relist). */
  remove(obj: KubeObject): void;
}

export interface InformerOptions {
  /** Pause before listing again after a failure. */
  retryMs: number;
  /** How long one watch request stays open before the server ends it (and it is renewed). */
  watchTimeoutSeconds?: number;
}

const keyOf = (o: KubeObject) => `${o.metadata.namespace ?? ""}/${o.metadata.name}`;

export class Informer {
  private known = new Map<string, KubeObject>();
  private watching = false;
  private lastContact = 0;

  constructor(private readonly client: KubeClient, private readonly apiVersion: string, private readonly kind: string, private readonly namespace: string | undefined,
    private readonly handlers: InformerHandlers, private readonly log: Logger, private readonly options: InformerOptions) {}

  /** Monotonic time the informer last knew it was current: now while a watch is open. */
  currentAt(): number {
    return this.watching ? performance.now() : this.lastContact;
  }

  /** Runs until `signal` aborts (the client should be bound to the same signal, so requests end with it). */
  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        const { items, resourceVersion } = await this.client.listAt(this.apiVersion, this.kind, this.namespace);
        if (signal.aborted) return;
        this.lastContact = performance.now();
        this.relisted(items);
        let version = resourceVersion;
        for (;;) {
          this.watching = true;
          const opened = performance.now();
          await this.client.watch(this.apiVersion, this.kind, this.namespace, version, (event) => {
            const seen = event.object.metadata.resourceVersion;
            if (typeof seen === "string") version = seen;
            if (event.type === "BOOKMARK") return;
            const key = keyOf(event.object);
            if (event.type === "DELETED") {
              this.known.delete(key);
              this.handlers.remove(event.object);
            } else {
              this.known.set(key, event.object);
              this.handlers.upsert(event.object);
            }
          }, this.options.watchTimeoutSeconds);
          this.watching = false;
          this.lastContact = performance.now();
          if (signal.aborted) return;
          // A server that ends watches at once must not turn this into a busy loop.
          if (performance.now() - opened < 1000) await sleep(this.options.retryMs, signal);
        }
      } catch (e) {
        this.watching = false;
        if (signal.aborted) return;
        // 410 Gone: our resourceVersion was compacted away; listing again is the normal way back.
        if (!(e instanceof KubeApiError && e.status === 410)) {
          this.log.warn({ kind: this.kind, namespace: this.namespace ?? "(all)", err: e instanceof Error ? e.message : String(e) }, "listing or watching failed; retrying");
          await sleep(this.options.retryMs, signal);
        }
      }
    }
  }

  private relisted(items: KubeObject[]): void {
    const seen = new Set<string>();
    for (const obj of items) {
      const key = keyOf(obj);
      seen.add(key);
      this.known.set(key, obj);
      this.handlers.upsert(obj);
    }
    for (const [key, obj] of this.known) {
      if (seen.has(key)) continue;
      this.known.delete(key);
      this.handlers.remove(obj);
    }
  }
}
