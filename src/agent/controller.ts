/**
 * The agent's scheduler: watches the Environments in its scope (list + watch), keeps one schedule per
 * Environment (interval with jitter, exponential backoff after failures, immediate runs on webhook or
 * spec change), and only while it holds leadership. Runs go through one work queue: at most
 * `maxConcurrentReconciles` at once across all Environments, one per Environment at a time (a trigger
 * during a run makes one more run after it). A run waiting on a rollout's health gives its slot back, so
 * slow rollouts delay no other Environment; nor does a stuck run delay a new leadership term or shutdown
 * (stop waits at most its grace period, after which abandoned runs can no longer write: their signal is aborted).
 * Git is polled per source, not per Environment: each run tells the source poller which repository,
 * branch and credentials it read; the poller checks each source's head once per interval and a moved
 * head (or a check that works again) wakes exactly the Environments whose last run did not read it.
 */
import { parseDuration } from "../config/duration.js";
import type { Logger } from "../log.js";
import { sleep } from "../util/pool.js";
import { Informer } from "../kube/informer.js";
import { nextDelay } from "./backoff.js";
import type { KubeObject } from "../config/objects.js";
import { envKey, parseEnvironmentSpec, ENV_API_VERSION, ENV_KIND, type EnvironmentObject } from "./environment.js";
import { reconcileEnvironment, type ReconcileDeps, type ReconcileResult } from "./reconcile.js";
import { ownsEnvironment, type Shard } from "./shard.js";
import { pushMatches, type PushEvent } from "./webhook.js";
import { SourcePoller, type PollClock } from "./source-poller.js";
import { WorkQueue } from "./work-queue.js";
import { RenderCache } from "./steps/render.js";
import type { SourceRef } from "../git/sources.js";

/** Set by a replica that is not the leader to ask the leader for a reconcile (webhook on a standby). */
export const REQUEST_ANNOTATION = "baton.dev/reconcile-requested-at";

interface Loop {
  env: EnvironmentObject;
  timer?: NodeJS.Timeout;
  running?: Promise<void>;
  /** Waiting for a run of an earlier term to wind down before it is queued. */
  deferred?: boolean;
  /** resourceVersions the watch showed since the current run started (and the newest before it). */
  seen: Set<string>;
  /**
   * The resourceVersion of this agent's last status write while the watch has not shown it yet: until it
   * does, a run reads the Environment from the API server instead of the watch's copy.
   */
  ownWrite?: string;
  failures: number;
  lastResult?: ReconcileResult;
  /**
   * Set by a trigger that may know the branch moved (a webhook push, a request from a standby, a spec
   * change, a superseded run): the next run uses only a remote head seen by a request started after it.
   */
  freshSince?: number;
  /** Set with freshSince by a push (a webhook, or a standby's request): the next run fetches without checking the head first. */
  pushed?: boolean;
  /** A run of this Environment is between its start and its end (set and cleared synchronously by run()). */
  inRun?: boolean;
  /**
   * A new revision of its source seen while a run was in progress: compared with what that run read when
   * it ends (it is often the run's own fetch that saw it), and run again only if the run read another one.
   */
  seenRevision?: string;
}

/**
 * Triggers whose run takes the branch head the source poller keeps (see HEAD_REUSE_INTERVALS). Any
 * other trigger (a new Environment, a webhook push, a request from a standby, a spec change, a manual
 * trigger) uses only a head seen after it was triggered.
 */
// A new Environment is not among them: it is often created right after a push, and must see that commit
// (Environments created together still share one request: each reuses a head seen after its trigger).
const HEAD_REUSE_REASONS = new Set(["interval", "new revision"]);
/**
 * How old a head (or a failed check) such a run may use, in intervals. The poller keeps it at most one
 * interval old; the margin covers a check in flight and timer lag, so an interval run sends no request
 * of its own while the poller works, and asks itself only when the poller could not.
 */
const HEAD_REUSE_INTERVALS = 1.5;

/** Triggers that say the branch moved: their run fetches at once instead of checking the head first. */
const PUSH_REASONS = new Set(["webhook push", "reconcile requested"]);

const DEFAULT_INTERVAL_MS = 60_000;

const versionOf = (env: EnvironmentObject): string[] => (typeof env.metadata.resourceVersion === "string" ? [env.metadata.resourceVersion] : []);

/**
 * The Environment's interval as validated (at least 1 s). A spec that does not validate (`interval: 0s`
 * among others) is reported Stalled by its run and retried at the default interval, never in a loop; its
 * fix arrives through the watch as a spec change anyway.
 */
function scheduledInterval(env: EnvironmentObject): number {
  try {
    return parseDuration(parseEnvironmentSpec(env).interval) ?? DEFAULT_INTERVAL_MS;
  } catch {
    return DEFAULT_INTERVAL_MS;
  }
}

const systemPollClock: PollClock = {
  now: () => performance.now(),
  after: (ms, fn) => {
    const timer = setTimeout(fn, ms);
    return () => clearTimeout(timer);
  },
};

export interface ControllerOptions {
  /** Namespaces to watch; undefined = all namespaces. */
  namespaces?: string[];
  /** Pause before listing Environments again after a failed list or watch; /readyz allows three. */
  resyncMs?: number;
  /** Reconcile only the Environments of this shard (`--shard`/`--shards`). */
  shard?: Shard;
  /** Reconciles in flight at once across all Environments (`--max-concurrent-reconciles`); default 4. */
  maxConcurrentReconciles?: number;
}

export class Controller {
  private loops = new Map<string, Loop>();
  private informers: Informer[] = [];
  private active = false;
  private abort = new AbortController();
  private signal: AbortSignal = this.abort.signal;
  /** Leadership term: events of an earlier term's informers are ignored. */
  private term = 0;
  /** Runs of earlier terms still winding down, by Environment: a new run of that Environment waits for its own. */
  private winding = new Map<string, Promise<void>>();
  /** Monotonic time the term started: /readyz counts from it until the informers are current. */
  private termStartedAt = 0;

  /** One head check per git source per interval, for all the Environments that read it. */
  private readonly poller: SourcePoller<SourceRef>;
  /** This term's runs, bounded across Environments. */
  private queue?: WorkQueue;
  /** Each Environment's last render: an interval run of the same revision does not read and parse its folder again. */
  private readonly renders = new RenderCache();

  constructor(private readonly deps: Omit<ReconcileDeps, "signal">, private readonly options: ControllerOptions, private readonly log: Logger, clock: PollClock = systemPollClock) {
    const sources = deps.sources;
    this.poller = new SourcePoller<SourceRef>({
      key: (ref) => sources.keyOf(ref),
      lastCheckAt: (ref) => sources.lastCheckAt(ref),
      check: (ref) => this.poll(ref),
    }, clock, (e) => this.log.warn({ err: e instanceof Error ? e.message : String(e) }, "polling a git source failed; its Environments report it at their next run"));
  }

  /**
   * Starts reconciling (call when leadership is acquired). Every request of this term is bound to
   * `leadership` (and to stop()): once it aborts, nothing more is written.
   */
  start(leadership?: AbortSignal): void {
    if (this.active) return;
    this.active = true;
    const term = ++this.term;
    // A fresh signal per leadership term: stop() aborts the previous one for good.
    this.abort = new AbortController();
    this.signal = leadership ? AbortSignal.any([leadership, this.abort.signal]) : this.abort.signal;
    this.termStartedAt = performance.now();
    const queue = new WorkQueue(this.options.maxConcurrentReconciles ?? 4, (key, release) => this.work(key, release), {
      onError: (key, e) => this.log.error({ env: key, err: e instanceof Error ? e.message : String(e) }, "reconcile crashed"),
      onStart: (_key, waitedMs) => this.deps.metrics.queueWait.observe(waitedMs / 1000),
    });
    this.queue = queue;
    this.deps.metrics.watchQueue(() => queue.stats());
    // Environments are watched, not listed on a timer: a new or changed Environment reconciles at once.
    const client = this.deps.client.withSignal(this.signal);
    const handlers = {
      upsert: (o: KubeObject) => this.observe(term, o as EnvironmentObject),
      remove: (o: KubeObject) => this.forget(term, envKey(o)),
    };
    const scopes = this.options.namespaces ? [...new Set(this.options.namespaces)] : [undefined];
    this.informers = scopes.map((ns) => new Informer(client, ENV_API_VERSION, ENV_KIND, ns, handlers, this.log, { retryMs: this.options.resyncMs ?? 5000 }));
    for (const informer of this.informers) void informer.run(this.signal);
  }

  /**
   * Stops scheduling and cancels every request of the term; waits for in-flight reconciles to wind down,
   * at most `graceMs`. A run still going after that (a hung git server) writes nothing more.
   */
  async stop(graceMs = 10_000): Promise<void> {
    this.active = false;
    this.term++;
    this.abort.abort(new Error("the agent stopped reconciling (leadership lost or shutting down)"));
    this.informers = [];
    this.poller.stop();
    this.queue?.shutDown();
    const loops = [...this.loops.entries()];
    this.loops = new Map();
    const running: Array<Promise<void>> = [];
    for (const [key, loop] of loops) {
      clearTimeout(loop.timer);
      if (!loop.running) continue;
      const done = loop.running.catch(() => undefined).finally(() => {
        if (this.winding.get(key) === done) this.winding.delete(key);
      });
      this.winding.set(key, done);
      running.push(done);
    }
    const graceOver = new AbortController(); // ends the grace timer early, so it keeps no process alive
    await Promise.race([Promise.all(running), sleep(graceMs, graceOver.signal)]);
    graceOver.abort();
  }

  /**
   * Monotonic time the Environments of this term were last known current (now while every watch is open;
   * 0 when not active). /readyz fails when this falls behind.
   */
  lastResyncAt(): number {
    if (!this.active) return 0;
    return Math.max(this.termStartedAt, Math.min(...this.informers.map((i) => i.currentAt())));
  }

  environments(): Array<{ key: string; lastResult?: ReconcileResult }> {
    return [...this.loops.entries()].map(([key, l]) => ({ key, ...(l.lastResult ? { lastResult: l.lastResult } : {}) }));
  }

  /** An Environment was listed, added or changed (from the term's informers). */
  private observe(term: number, env: EnvironmentObject): void {
    if (!this.active || term !== this.term) return; // an event of an earlier term
    const key = envKey(env);
    if (!ownsEnvironment(this.options.shard, key)) return; // another shard's agent reconciles it
    const loop = this.loops.get(key);
    if (!loop) {
      this.loops.set(key, { env, failures: 0, seen: new Set(versionOf(env)) });
      this.trigger(key, "new environment");
      return;
    }
    // Status writes (our own included) change neither the generation nor the request annotation.
    const changed = env.metadata.generation !== loop.env.metadata.generation;
    const requested = env.metadata.annotations?.[REQUEST_ANNOTATION] !== loop.env.metadata.annotations?.[REQUEST_ANNOTATION];
    loop.env = env;
    for (const version of versionOf(env)) {
      loop.seen.add(version);
      if (version === loop.ownWrite) loop.ownWrite = undefined;
    }
    if (changed) this.trigger(key, "spec changed");
    else if (requested) this.trigger(key, "reconcile requested");
  }

  /** An Environment was deleted: its loop ends (Baton never deletes objects because an Environment went). */
  private forget(term: number, key: string): void {
    if (term !== this.term) return;
    const loop = this.loops.get(key);
    if (!loop) return;
    clearTimeout(loop.timer);
    this.loops.delete(key);
    this.queue?.forget(key);
    this.poller.unfollow(key);
    this.renders.forget(key);
    this.log.info({ env: key }, "environment removed; its objects stay in place");
  }

  /** Queues a reconcile of an Environment (or one more right after the run in progress). */
  trigger(key: string, reason: string): boolean {
    const loop = this.loops.get(key);
    if (!loop || !this.active || !this.queue) return false;
    this.log.debug({ env: key, reason }, "reconcile triggered");
    clearTimeout(loop.timer);
    if (!HEAD_REUSE_REASONS.has(reason)) loop.freshSince = performance.now();
    if (PUSH_REASONS.has(reason)) loop.pushed = true;
    // Never two runs of one Environment: a run of an earlier term that is still winding down goes first,
    // and this one is queued only after it (so it holds no worker while it waits).
    const previous = this.winding.get(key);
    if (previous) {
      if (!loop.deferred) {
        loop.deferred = true;
        void previous.then(() => {
          loop.deferred = false;
          if (this.loops.get(key) === loop) this.trigger(key, "earlier run wound down");
        });
      }
      return true;
    }
    this.queue.add(key);
    return true;
  }

  /** One queued run; `release` gives the worker back when the run only waits on health. */
  private async work(key: string, release: () => void): Promise<void> {
    const loop = this.loops.get(key);
    if (!loop || !this.active) return;
    const running = this.run(key, loop, release);
    loop.running = running;
    try {
      await running;
    } finally {
      if (loop.running === running) loop.running = undefined;
    }
  }

  /**
   * A push received by any replica: the leader reconciles its matching Environments at once; a standby
   * (its Service gets webhooks too), or a leader for the Environments of other shards, annotates them,
   * and their leader's next resync picks that up.
   */
  async handlePush(event: PushEvent): Promise<string[]> {
    const sharded = (this.options.shard?.count ?? 1) > 1;
    if (this.active && !sharded) return this.triggerPush(event);
    const matched = this.active ? this.triggerPush(event) : [];
    const triggered = new Set(matched);
    const scopes = this.options.namespaces ?? [undefined];
    const items = (await Promise.all(scopes.map((ns) => this.deps.client.list(ENV_API_VERSION, ENV_KIND, ns)))).flat() as EnvironmentObject[];
    for (const env of items) {
      if (triggered.has(envKey(env))) continue;
      try {
        if (!pushMatches(event, parseEnvironmentSpec(env))) continue;
      } catch {
        continue;
      }
      await this.deps.client.mergePatch(ENV_API_VERSION, ENV_KIND, env.metadata.namespace, env.metadata.name, { metadata: { annotations: { [REQUEST_ANNOTATION]: new Date().toISOString() } } });
      matched.push(envKey(env));
    }
    return matched;
  }

  /**
   * A check (the poller's, or any run's) saw a source's branch move: every Environment reading that source
   * whose last run did not read that revision reconciles now, instead of at its own next interval.
   */
  followRevision(source: { key: string }, revision: string): void {
    for (const key of this.poller.readers(source.key)) {
      const loop = this.loops.get(key);
      if (!loop || loop.lastResult?.revision === revision) continue;
      if (loop.inRun) loop.seenRevision = revision;
      else this.trigger(key, "new revision");
    }
  }

  /**
   * The poller's head check of one source. A moved head wakes its readers through GitSources'
   * onNewRevision; readers whose last run did not read the head either (their fetch failed, e.g. while
   * the server was down) are woken here, so they retry as soon as git answers again.
   */
  private async poll(ref: SourceRef): Promise<void> {
    if (!this.active) return;
    const head = await this.deps.sources.head(ref, { allowInsecureHttp: this.deps.allowInsecureHttp ?? false, ...this.deps.git, signal: this.signal, maxAgeMs: 0 });
    this.followRevision({ key: this.deps.sources.keyOf(ref) }, head);
  }

  /** Triggers every Environment that follows the pushed repository and branch; returns their keys. */
  triggerPush(event: PushEvent): string[] {
    const matched: string[] = [];
    for (const [key, loop] of this.loops) {
      try {
        const spec = parseEnvironmentSpec(loop.env);
        if (pushMatches(event, spec) && this.trigger(key, "webhook push")) matched.push(key);
      } catch {
        // an invalid spec is reported by its own reconcile
      }
    }
    return matched;
  }

  private async run(key: string, loop: Loop, release: () => void): Promise<void> {
    let intervalMs = DEFAULT_INTERVAL_MS;
    /** Whether the run got as far as naming its git source (a suspended or invalid Environment reads none). */
    let read = false;
    if (!this.active || this.loops.get(key) !== loop) return; // its term ended while an earlier run wound down
    loop.inRun = true;
    loop.seenRevision = undefined;
    try {
      const signal = this.signal;
      const client = this.deps.client.withSignal(signal);
      // The watch's copy is current unless it has not shown this agent's last status write yet (a run
      // right after a run): then read it, so the status builds on what was written. Either way the status
      // write carries the resourceVersion it was computed from (status.ts handles a conflict).
      let fresh: EnvironmentObject | undefined = loop.env;
      if (loop.ownWrite !== undefined) fresh = (await client.get(ENV_API_VERSION, ENV_KIND, loop.env.metadata.namespace, loop.env.metadata.name)) as EnvironmentObject | undefined;
      if (!fresh || this.loops.get(key) !== loop) return;
      loop.seen = new Set([...versionOf(loop.env), ...versionOf(fresh)]);
      const spec = (fresh.spec ?? {}) as { suspend?: boolean };
      intervalMs = scheduledInterval(fresh);
      if (spec.suspend === true) {
        this.log.info({ env: key }, "suspended; skipping");
        return;
      }
      const sourceMaxAgeMs = loop.freshSince === undefined ? HEAD_REUSE_INTERVALS * intervalMs : Math.max(0, performance.now() - loop.freshSince);
      loop.freshSince = undefined;
      const sourceMoved = loop.pushed === true;
      loop.pushed = false;
      // The run names the source it reads; the poller then checks that source for it every interval.
      const onSource = (ref: SourceRef) => {
        read = true;
        if (this.active && this.loops.get(key) === loop) this.poller.follow(key, ref, intervalMs);
      };
      const result = await reconcileEnvironment({ ...this.deps, client, events: this.deps.events.withClient(client), signal, sourceMaxAgeMs, sourceMoved, onSource, onWaiting: release, renders: this.renders }, fresh);
      loop.lastResult = result;
      const written = result.stored ? versionOf(result.stored)[0] : undefined;
      if (written !== undefined && !loop.seen.has(written)) loop.ownWrite = written;
      loop.failures = result.ok || result.stalled || result.superseded ? 0 : loop.failures + 1;
      if (result.superseded) {
        // A newer commit arrived during the health wait: run again right after this run, with a fresh head.
        loop.freshSince = performance.now();
        this.queue?.add(key);
      }
    } catch (e) {
      loop.failures++;
      this.log.error({ env: key, err: e instanceof Error ? e.message : String(e) }, "reconcile crashed");
    } finally {
      loop.inRun = false;
      // An Environment follows the source its last run read, and none once it reads none.
      if (!read) this.poller.unfollow(key);
      if (this.active && this.loops.get(key) === loop) {
        clearTimeout(loop.timer);
        loop.timer = setTimeout(() => this.trigger(key, "interval"), nextDelay(intervalMs, loop.failures));
        if (loop.seenRevision !== undefined && loop.seenRevision !== loop.lastResult?.revision) this.trigger(key, "new revision");
      }
      loop.seenRevision = undefined;
    }
  }
}
