/**
 * Live board updates over server-sent events. While at least one page listens, the clone is polled: its
 * HEAD and `git status` (a new commit, a pull, a switched branch, an edited file) and, with a kubeconfig, the
 * agent's Environment status (readiness, applied revision, drift) form a fingerprint, and when it changes the
 * board is computed once and pushed to every listener. A page that connects gets the
 * latest board at once, so a change between its first fetch and its subscription is not lost.
 */
import type http from "node:http";
import { BatonError, BatonErrors } from "../errors.js";
import type { Logger } from "../log.js";
import { GitWorkspace } from "../promote/git-workspace.js";
import { scrubSecrets } from "../util/secrets.js";
import { loadBoard, type ConsoleSources } from "./data.js";
import type { CloneLock } from "./server.js";

/** Comment lines keep idle connections open through proxies that close silent ones. */
const KEEPALIVE_MS = 15_000;

export class BoardFeed {
  private readonly listeners = new Set<http.ServerResponse>();
  private timer: NodeJS.Timeout | undefined;
  private keepalive: NodeJS.Timeout | undefined;
  private fingerprint: string | undefined;
  private latest: string | undefined;
  private ticking = false;

  constructor(private readonly sources: ConsoleSources, private readonly intervalMs: number, private readonly log: Logger, private readonly lock: CloneLock) {}

  /** Something changed the clone (an action): check now instead of at the next poll. */
  poke(): void {
    if (this.timer) void this.tick();
  }

  subscribe(res: http.ServerResponse, headers: Record<string, string>): void {
    res.writeHead(200, { ...headers, "Content-Type": "text/event-stream; charset=utf-8", Connection: "keep-alive" });
    res.write(`retry: ${Math.max(1000, this.intervalMs)}\n\n`);
    this.listeners.add(res);
    res.on("close", () => {
      this.listeners.delete(res);
      if (this.listeners.size === 0) this.stop();
    });
    if (this.latest) res.write(this.latest);
    if (!this.timer) {
      this.timer = setInterval(() => void this.tick(), this.intervalMs);
      this.keepalive = setInterval(() => this.broadcast(": keepalive\n\n"), KEEPALIVE_MS);
      void this.tick();
    }
  }

  /** Ends every stream (the server is closing). */
  close(): void {
    for (const res of this.listeners) res.end();
    this.listeners.clear();
    this.stop();
  }

  /** Nobody listens: stop polling and forget the board, which would be stale by the next subscription. */
  private stop(): void {
    clearInterval(this.timer);
    clearInterval(this.keepalive);
    this.timer = undefined;
    this.keepalive = undefined;
    this.fingerprint = undefined;
    this.latest = undefined;
  }

  private broadcast(message: string): void {
    for (const res of this.listeners) res.write(message);
  }

  private async tick(): Promise<void> {
    if (this.ticking) return; // a slow board computation is not started twice
    this.ticking = true;
    try {
      // Under the clone lock: never a board read while an action has a branch checked out.
      const message = await this.lock.run(async () => {
        const ws = await GitWorkspace.open(this.sources.repo);
        // The agent's view too (one list): an apply changes the board's health with no new commit in the clone.
        // An unreachable cluster is part of the state, so it is reported when it starts, not at every poll.
        const cluster = await this.sources.cluster?.().catch((e: unknown) => new Error(e instanceof Error ? e.message : String(e)));
        const fingerprint = `${await ws.stateFingerprint()}\n${cluster instanceof Error ? `unreachable: ${cluster.message}` : JSON.stringify(cluster ?? null)}`;
        if (fingerprint === this.fingerprint) return undefined;
        this.fingerprint = fingerprint;
        // The board is built from the list just read, not a second one that may differ from the fingerprint.
        return this.message(cluster && !(cluster instanceof Error) ? { ...this.sources, cluster: () => Promise.resolve(cluster) } : this.sources);
      });
      if (message === undefined) return;
      this.latest = message;
      this.broadcast(this.latest);
    } catch (e) {
      this.log.warn({ action: "console-live", err: e instanceof Error ? e.message : String(e) }, "cannot read the clone for live updates");
    } finally {
      this.ticking = false;
    }
  }

  /** `event: board` with the board, or `event: problems` with Baton's errors (a broken baton.yaml). */
  private async message(sources: ConsoleSources): Promise<string> {
    try {
      return `event: board\ndata: ${scrubSecrets(JSON.stringify(await loadBoard(sources)))}\n\n`;
    } catch (e) {
      const errors = e instanceof BatonErrors ? e.errors : e instanceof BatonError ? [e] : undefined;
      if (!errors) throw e;
      return `event: problems\ndata: ${scrubSecrets(JSON.stringify(errors.map((x) => x.toJSON())))}\n\n`;
    }
  }
}
