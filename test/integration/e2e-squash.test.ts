// End to end (see e2e-promotion.test.ts) with squash merges whose message is only the PR title and body:
// Baton's trailers are gone from main, and history, rollback and the agent's notifications still work.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { parseBatonCommit } from "../../src/promote/trailers.js";
import { git } from "../support/example-repo.js";
import { digestFor, promotionCycle, startE2E, type E2E } from "../support/e2e-promotion.js";
import { waitFor } from "../support/processes.js";

let e: E2E;
before(async () => {
  e = await startE2E("s");
});
after(async () => {
  assert.deepEqual(e?.github.violations, []);
  await e?.stop();
});

test("squash merges without Baton's trailers: pin → policy → approval → merge → deploy → rollback → history", async () => {
  await promotionCycle(e, "squash", digestFor("e2"));
  const messages = (await git(e.dev, "log", "--first-parent", "--format=%B%x1e", "-2")).split("\x1e").filter((m) => m.trim());
  assert.deepEqual(messages.map((m) => parseBatonCommit(m).kind), [undefined, undefined], "the squash commits carry no trailers");
  // The agent still announced the squashed promotion as merged.
  await waitFor("promotion.merged", async () => (e.received.some((x) => x.type === "promotion.merged" && x.environment === "staging") ? true : undefined), 10_000);
});
