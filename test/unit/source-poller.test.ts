// The source poller's schedule on a fake clock: one head check per source per interval however many
// Environments read it, the shortest interval wins, anybody's check postpones the poll, a failing server
// is asked once per interval (never in a loop), and nothing is checked for a source nobody reads.
import { test } from "node:test";
import assert from "node:assert/strict";
import { SourcePoller, type PollClock, type PollTarget } from "../../src/agent/source-poller.js";

class FakeClock implements PollClock {
  t = 0;
  private timers: Array<{ at: number; fn: () => void; id: number }> = [];
  private ids = 0;
  now(): number {
    return this.t;
  }
  after(ms: number, fn: () => void): () => void {
    const id = ++this.ids;
    this.timers.push({ at: this.t + ms, fn, id });
    return () => {
      this.timers = this.timers.filter((x) => x.id !== id);
    };
  }
  /** Moves time forward, firing due timers in order and letting the promises they start settle. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      await settle();
      const next = this.timers.filter((x) => x.at <= end).sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (!next) break;
      this.timers = this.timers.filter((x) => x !== next);
      this.t = next.at;
      next.fn();
    }
    this.t = end;
    await settle();
  }
  pending(): number {
    return this.timers.length;
  }
}

const settle = async () => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};

interface Ref {
  repo: string;
}

/** A git source double: records each check (source, time); `failing` makes checks reject. */
function gitDouble(clock: FakeClock, checkMs = 0) {
  const last = new Map<string, number>();
  const checks: Array<[string, number]> = [];
  const state = { failing: false, checks, errors: 0 };
  const target: PollTarget<Ref> = {
    key: (ref) => ref.repo,
    lastCheckAt: (ref) => last.get(ref.repo),
    check: async (ref) => {
      last.set(ref.repo, clock.now());
      checks.push([ref.repo, clock.now()]);
      if (checkMs > 0) await new Promise<void>((resolve) => clock.after(checkMs, resolve));
      if (state.failing) throw new Error("git server down");
    },
  };
  /** A check made by someone else (a webhook-triggered run) at the current time. */
  const externalCheck = (repo: string) => last.set(repo, clock.now());
  return { target, state, externalCheck };
}

test("fifty readers of one source cost one head check per interval", async () => {
  const clock = new FakeClock();
  const git = gitDouble(clock);
  const poller = new SourcePoller(git.target, clock);
  for (let i = 0; i < 50; i++) poller.follow(`ns/env-${i}`, { repo: "config" }, 10_000);
  await clock.advance(100_000);
  assert.deepEqual(git.state.checks.map(([, at]) => at), [10_000, 20_000, 30_000, 40_000, 50_000, 60_000, 70_000, 80_000, 90_000, 100_000]);
  assert.equal(poller.readers("config").length, 50);
});

test("the shortest interval of a source's readers sets its period; when that reader leaves, the period grows again", async () => {
  const clock = new FakeClock();
  const git = gitDouble(clock);
  const poller = new SourcePoller(git.target, clock);
  poller.follow("ns/slow", { repo: "config" }, 10_000);
  poller.follow("ns/fast", { repo: "config" }, 3_000);
  await clock.advance(9_000);
  assert.deepEqual(git.state.checks.map(([, at]) => at), [3_000, 6_000, 9_000]);
  poller.unfollow("ns/fast");
  await clock.advance(21_000);
  assert.deepEqual(git.state.checks.map(([, at]) => at), [3_000, 6_000, 9_000, 19_000, 29_000]);
});

test("a check made by anyone (a webhook-triggered run) postpones the poll by a whole interval", async () => {
  const clock = new FakeClock();
  const git = gitDouble(clock);
  const poller = new SourcePoller(git.target, clock);
  poller.follow("ns/web", { repo: "config" }, 10_000);
  await clock.advance(4_000);
  git.externalCheck("config");
  await clock.advance(16_000);
  assert.deepEqual(git.state.checks.map(([, at]) => at), [14_000], "the poll comes one interval after the run's check, not at 10 s");
});

test("a failing server is asked once per interval, not in a loop, and each failure is reported", async () => {
  const clock = new FakeClock();
  const git = gitDouble(clock);
  const errors: unknown[] = [];
  const poller = new SourcePoller(git.target, clock, (e) => errors.push(e));
  git.state.failing = true;
  poller.follow("ns/web", { repo: "config" }, 5_000);
  await clock.advance(20_000);
  assert.deepEqual(git.state.checks.map(([, at]) => at), [5_000, 10_000, 15_000, 20_000]);
  assert.equal(errors.length, 4);
});

test("a slow check is never overlapped by the next one of the same source", async () => {
  const clock = new FakeClock();
  const git = gitDouble(clock, 7_000);
  const poller = new SourcePoller(git.target, clock);
  poller.follow("ns/web", { repo: "config" }, 5_000);
  await clock.advance(30_000);
  // 5 s: check (7 s long), ends at 12 s, already due → 12 s, ends 19 s → 19 s, ends 26 s → 26 s.
  assert.deepEqual(git.state.checks.map(([, at]) => at), [5_000, 12_000, 19_000, 26_000]);
});

test("sources are polled apart; a reader that moves to another repository leaves the first; nothing is polled for nobody", async () => {
  const clock = new FakeClock();
  const git = gitDouble(clock);
  const poller = new SourcePoller(git.target, clock);
  poller.follow("ns/a", { repo: "one" }, 10_000);
  poller.follow("ns/b", { repo: "two" }, 10_000);
  await clock.advance(10_000);
  assert.deepEqual(git.state.checks.map(([repo]) => repo).sort(), ["one", "two"]);
  poller.follow("ns/a", { repo: "two" }, 10_000);
  assert.deepEqual(poller.readers("one"), []);
  assert.deepEqual(poller.readers("two").sort(), ["ns/a", "ns/b"]);
  assert.equal(poller.sourceOf("ns/a"), "two");
  await clock.advance(10_000);
  assert.deepEqual(git.state.checks.map(([repo, at]) => `${repo}@${at}`).sort(), ["one@10000", "two@10000", "two@20000"]);
  poller.unfollow("ns/a");
  poller.unfollow("ns/b");
  assert.equal(clock.pending(), 0, "no timer left for a source nobody reads");
  poller.follow("ns/c", { repo: "three" }, 1_000);
  poller.stop();
  await clock.advance(10_000);
  assert.deepEqual(git.state.checks.length, 3, "stop() (leadership ended) cancels every poll");
});
