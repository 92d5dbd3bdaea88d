// End to end, no mocks in the path, on the real control plane, git server and GitHub stand-in: the
// promotion cycle (pin → policy-held PR → code-owner approval → merge through GitHub's API → deploy →
// rollback PR → merged → previous digest → history with PR numbers) with merge commits. The same cycle with
// squash merges: e2e-squash.test.ts; with rebase merges and a hand edit: e2e-rebase.test.ts (one file each:
// under a loaded machine one file must finish within the runner's per-file limit).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { status } from "../../src/promote/status.js";
import { clusterEnvironments } from "../../src/cli/status.js";
import { digestFor, promotionCycle, startE2E, type E2E } from "../support/e2e-promotion.js";
import { waitFor } from "../support/processes.js";
import { startConsole } from "../../src/console/server.js";
import type { Board } from "../../src/console/board.js";
import { environmentsDeploying } from "../../src/console/cluster.js";
import type { EnvironmentPage } from "../../src/console/data.js";
import { silentLogger } from "../../src/log.js";

let e: E2E;
before(async () => {
  e = await startE2E("a");
});
after(async () => {
  await e?.stop();
});

test("merge commits: pin → policy → approval → merge → deploy → rollback → history", async () => {
  await promotionCycle(e, "merge", digestFor("e1"));
});

test("status and notifications saw the cycle", async () => {
  // baton status: the repo's pins, the agent's view from the cluster, and GitHub's deployments.
  const report = await status(e.dev, async () => e.api, () => clusterEnvironments(process.env.BATON_TEST_KUBECONFIG ?? "", e.ns));
  const staging = report.environments.find((x) => x.name === "staging");
  assert.equal(staging?.cluster?.ready, "True");
  assert.equal(staging?.deployment?.state, "success");
  // baton console shows the same: the agent's readiness and revision, GitHub's deployment, per environment.
  const board = await startConsole({
    repo: e.dev, host: "127.0.0.1", port: 0, log: silentLogger, github: async () => e.api, cluster: () => clusterEnvironments(process.env.BATON_TEST_KUBECONFIG ?? "", e.ns),
    environmentDetail: (folder) => environmentsDeploying(e.client, e.ns, folder),
  });
  try {
    const body = await (await fetch(`${board.url}api/board`)).json() as { board: Board };
    const column = body.board.environments.find((x) => x.name === "staging");
    assert.deepEqual([body.board.github, column?.cluster?.ready, column?.cluster?.revision, column?.deployment?.state], ["ok", "True", staging?.cluster?.revision, "success"]);
    assert.equal(column?.cells["ghcr.io/acme/web"]?.digest, staging?.images[0]?.digest);
    // The environment page: the Environment's conditions, the objects it applied, and its Events.
    const page = (await (await fetch(`${board.url}api/environments/staging`)).json() as { environment: EnvironmentPage }).environment;
    assert.equal(page.cluster.state, "ok");
    const object = page.cluster.state === "ok" ? page.cluster.environments[0] : undefined;
    const live = await e.envAt("staging", staging?.cluster?.revision ?? "");
    assert.deepEqual([object?.name, object?.revision], [live.metadata.name, live.status?.lastAppliedRevision]);
    assert.deepEqual(object?.conditions.find((c) => c.type === "Ready")?.status, "True");
    assert.ok(object?.inventory.some((o) => o.kind === "Deployment" && o.name === "web" && o.namespace === e.appNamespace("staging")), JSON.stringify(object?.inventory));
    assert.equal(object?.inventory.length, live.status?.inventory?.entries.length);
    assert.ok(object?.events.some((ev) => ev.reason === "Applied"), JSON.stringify(object?.events));
  } finally {
    await board.close();
  }
  assert.deepEqual(e.github.violations, []);
  const events = await waitFor("notifications", async () => (e.received.some((x) => x.type === "promotion.merged" && x.environment === "staging") ? e.received : undefined), 10_000);
  const seen = new Set(events.map((x) => `${x.type}:${x.environment}`));
  for (const want of ["deploy.succeeded:testing", "promotion.opened:staging", "deploy.succeeded:staging", "rollback.opened:staging"]) {
    assert.ok(seen.has(want), `missing notification ${want}; got ${[...seen].join(", ")}`);
  }
});
