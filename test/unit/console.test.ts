// The console's pure parts: the board and timeline models, PR links, and who may talk to the server.
import { test } from "node:test";
import assert from "node:assert/strict";
import { actionCommand, parseAction } from "../../src/console/actions.js";
import { BatonError } from "../../src/errors.js";
import { boardModel, pullRequestUrl, timelineModel } from "../../src/console/board.js";
import { cookieValue, refusal, TOKEN_COOKIE, type GuardOptions } from "../../src/console/guard.js";
import type { HistoryEntry } from "../../src/promote/history.js";
import type { StatusReport } from "../../src/promote/status.js";
import { clusterPart, NO_KUBECONFIG, RECENT_EVENTS, releaseView } from "../../src/console/environment.js";
import type { EnvironmentObject } from "../../src/agent/environment.js";
import type { Strategy } from "../../src/config/pipeline.js";
import { strategySteps } from "../../src/release/strategy.js";
import { gitTokenEnvironment } from "../../src/console/clone.js";

const D1 = `sha256:${"1".repeat(64)}`;
const D2 = `sha256:${"2".repeat(64)}`;
const WEB = "ghcr.io/acme/web";

function entry(commit: string, changes: HistoryEntry["changes"], extra: Partial<HistoryEntry> = {}): HistoryEntry {
  return { time: "2026-01-01T00:00:00Z", commit, author: "Ann", subject: `commit ${commit}`, kind: "commit", digests: [], changes, ...extra };
}

test("board: environments in pipeline order, one row per image, each cell with its digest, tag and the commit that last changed it", () => {
  const status: StatusReport = {
    github: "ok",
    environments: [
      { name: "staging", images: [{ repository: WEB, digest: D1, tag: "1.4.0", rejected: false }], openPulls: [{ number: 9, url: "https://github.com/acme/config/pull/9", title: "Promote web" }],
        cluster: { ready: "True", revision: "abc" }, deployment: { sha: "abc", state: "success", since: "2026-01-01T00:00:00Z" } },
      { name: "testing", images: [{ repository: WEB, digest: D2, tag: "1.5.0", rejected: false }, { repository: "nginx", digest: D1, rejected: true }], openPulls: [] },
      { name: "production", images: [], openPulls: [], error: "cannot render environments/production" },
    ],
  };
  const board = boardModel({
    revision: "abc", remote: "https://x-access-token:s3cret@github.com/acme/config.git",
    pipeline: [{ name: "testing", path: "environments/testing" }, { name: "staging", path: "environments/staging", promoteFrom: "testing" }, { name: "production", path: "environments/production", promoteFrom: "staging" }],
    status,
    histories: {
      // Newest first: the promotion changed web; the older commit only created nginx.
      testing: [entry("t2", [{ repository: WEB, from: D1, to: D2 }], { kind: "promotion", pr: 7 }), entry("t1", [{ repository: "docker.io/library/nginx", to: D1 }])],
      staging: [entry("s1", [{ repository: WEB, to: D1 }])],
    },
  });
  assert.deepEqual(board.environments.map((e) => e.name), ["testing", "staging", "production"]);
  assert.deepEqual(board.images.map((i) => [i.key, i.name]), [["docker.io/library/nginx", "nginx"], [WEB, "web"]]);
  const testing = board.environments[0]!;
  assert.deepEqual(testing.cells[WEB], {
    short: "2222222", digest: D2, tag: "1.5.0", rejected: false,
    lastChange: { commit: "t2", author: "Ann", time: "2026-01-01T00:00:00Z", kind: "promotion", subject: "commit t2", pr: 7, prUrl: "https://github.com/acme/config/pull/7" },
  });
  // `nginx` and `docker.io/library/nginx` are one image: its cell finds the commit that created it.
  assert.equal(testing.cells["docker.io/library/nginx"]?.lastChange?.commit, "t1");
  assert.equal(testing.cells["docker.io/library/nginx"]?.rejected, true);
  assert.equal(board.environments[1]!.cells["docker.io/library/nginx"], undefined);
  assert.equal(board.environments[2]!.error, "cannot render environments/production");
  // staging runs another web digest than testing: the promote command; nginx only in testing does not count.
  assert.deepEqual(board.environments[1]!.promote, { from: "testing", images: ["web"], command: "baton promote testing staging" });
  assert.equal(board.environments[0]!.promote, undefined);
  assert.equal(board.environments[2]!.promote, undefined, "a broken environment gets no command");
  // The agent's and GitHub's columns pass through to the environment they belong to.
  assert.equal(board.github, "ok");
  assert.deepEqual(board.environments.map((e) => [e.openPulls.map((p) => p.number), e.cluster?.ready, e.deployment?.state]), [[[], undefined, undefined], [[9], "True", "success"], [[], undefined, undefined]]);
  assert.doesNotMatch(JSON.stringify(board), /s3cret|x-access-token/);
});

test("PR links come from the remote's web host and path, never its credentials; unknown remotes get none", () => {
  assert.equal(pullRequestUrl("git@github.com:acme/config.git", 3), "https://github.com/acme/config/pull/3");
  assert.equal(pullRequestUrl("ssh://git@ghe.example.com:2222/acme/config.git", 3), "https://ghe.example.com/acme/config/pull/3");
  assert.equal(pullRequestUrl("https://user:tok@ghe.example.com/acme/config", 4), "https://ghe.example.com/acme/config/pull/4");
  assert.equal(pullRequestUrl("/srv/git/config", 4), undefined);
  assert.equal(pullRequestUrl(undefined, 4), undefined);
  assert.equal(pullRequestUrl("file:///srv/git/acme/config", 4), undefined);
});

test("timeline: every history entry with short digests, its kind, source environment, PR link and the rollback command back to it", () => {
  const older = entry("0123456789abcdef0123", [{ repository: WEB, to: D1 }]);
  const rows = timelineModel("staging", [entry("m1", [{ repository: WEB, from: D1, to: D2 }], { kind: "promotion", from: "testing", pr: 12, digests: [{ repository: WEB, digest: D2 }] }), older], "https://github.com/acme/config");
  // Every older entry says how to return to it; the newest is what runs.
  assert.equal(rows[1]?.rollbackCommand, "baton rollback staging --to 0123456789ab");
  rows.pop();
  assert.deepEqual(rows, [{
    commit: "m1", author: "Ann", time: "2026-01-01T00:00:00Z", kind: "promotion", subject: "commit m1", pr: 12, prUrl: "https://github.com/acme/config/pull/12", from: "testing",
    digests: [{ repository: WEB, short: "2222222" }], changes: [{ repository: WEB, from: "1111111", to: "2222222" }],
  }]);
});

const LOOPBACK: GuardOptions = { port: 7420, loopback: true };

test("guard: loopback Host names only; a rebound DNS name is refused", () => {
  for (const host of ["127.0.0.1:7420", "localhost:7420", "[::1]:7420", "LOCALHOST:7420"]) assert.equal(refusal({ method: "GET", host }, LOOPBACK), undefined, host);
  for (const host of ["evil.example:7420", "127.0.0.1:80", "127.0.0.1", "0.0.0.0:7420"]) assert.equal(refusal({ method: "GET", host }, LOOPBACK)?.status, 403, host);
  assert.equal(refusal({ method: "GET" }, LOOPBACK)?.status, 400);
});

test("guard: another origin is refused, reads or writes; a write needs a same-origin Origin header", () => {
  const host = "127.0.0.1:7420";
  assert.equal(refusal({ method: "GET", host, origin: "http://127.0.0.1:7420" }, LOOPBACK), undefined);
  assert.match(refusal({ method: "POST", host, origin: "https://evil.example" }, LOOPBACK)?.reason ?? "", /cross-origin request from https:\/\/evil\.example/);
  assert.equal(refusal({ method: "GET", host, origin: "null" }, LOOPBACK)?.status, 403);
  assert.equal(refusal({ method: "GET", host, secFetchSite: "cross-site" }, LOOPBACK)?.status, 403);
  assert.equal(refusal({ method: "POST", host }, LOOPBACK)?.status, 403);
});

test("guard: an action (POST) needs a same-origin Origin, no foreign Sec-Fetch-Site, and the page's session token", () => {
  const host = "127.0.0.1:7420";
  const origin = "http://127.0.0.1:7420";
  const csrfToken = "session-token-0123456789";
  const withToken: GuardOptions = { ...LOOPBACK, csrfToken };
  assert.equal(refusal({ method: "POST", host, origin, csrf: csrfToken, secFetchSite: "same-origin" }, withToken), undefined);
  assert.equal(refusal({ method: "POST", host, origin, csrf: csrfToken }, withToken), undefined, "older browsers send no Sec-Fetch-Site");
  assert.match(refusal({ method: "POST", host, origin }, withToken)?.reason ?? "", /without the page's session token/);
  assert.equal(refusal({ method: "POST", host, origin, csrf: `${csrfToken}x` }, withToken)?.status, 403);
  assert.equal(refusal({ method: "POST", host, origin, csrf: csrfToken, secFetchSite: "same-site" }, withToken)?.status, 403);
  assert.equal(refusal({ method: "POST", host, csrf: csrfToken }, withToken)?.status, 403);
  assert.equal(refusal({ method: "POST", host, origin, csrf: csrfToken }, LOOPBACK)?.status, 403, "no session token configured: no writes");
});

test("console actions: the request body is validated field by field, and each maps to the CLI command it runs", () => {
  assert.deepEqual(parseAction({ action: "promote", from: "testing", to: "staging" }), { action: "promote", from: "testing", to: "staging" });
  assert.deepEqual(parseAction({ action: "rollback", env: "staging", to: "abc1234" }), { action: "rollback", env: "staging", to: "abc1234", push: false });
  assert.throws(() => parseAction({ action: "rollback", env: "staging", to: "HEAD~1; rm -rf /" }), (e: unknown) => e instanceof BatonError && e.code === "USAGE" && e.field === "to");
  assert.throws(() => parseAction({ action: "delete", env: "staging" }), (e: unknown) => e instanceof BatonError && e.code === "USAGE" && e.field === "action");
  assert.throws(() => parseAction({ action: "promote", from: "../x", to: "staging" }), (e: unknown) => e instanceof BatonError && e.field === "from");
  assert.deepEqual([
    actionCommand(parseAction({ action: "promote", from: "testing", to: "staging" })),
    actionCommand(parseAction({ action: "rollback", env: "staging", to: "abc1234", push: true })),
    actionCommand(parseAction({ action: "confirm", env: "production", all: true })),
    actionCommand(parseAction({ action: "abort", env: "production" })),
  ], ["baton promote testing staging", "baton rollback staging --to abc1234 --push", "baton confirm production --all", "baton abort production"]);
});

test("guard: beyond loopback every request needs the token (bearer, cookie or ?token=), and no token means no access", () => {
  const token = "0123456789abcdef0123";
  const open: GuardOptions = { port: 7420, loopback: false, token };
  const host = "console.internal:7420";
  assert.equal(refusal({ method: "GET", host }, open)?.status, 401);
  assert.equal(refusal({ method: "GET", host, authorization: `Bearer ${token}x` }, open)?.status, 401);
  assert.equal(refusal({ method: "GET", host, authorization: `Bearer ${token}` }, open), undefined);
  assert.equal(refusal({ method: "GET", host, cookie: `a=b; ${TOKEN_COOKIE}=${token}` }, open), undefined);
  assert.equal(refusal({ method: "GET", host, queryToken: token }, open), undefined);
  assert.equal(refusal({ method: "GET", host, authorization: `Bearer ${token}` }, { port: 7420, loopback: false })?.status, 403);
  assert.equal(refusal({ method: "POST", host, origin: "http://evil.example", authorization: `Bearer ${token}` }, open)?.status, 403);
  assert.equal(cookieValue("x=1; y = 2", "y"), "2");
});

test("environment page: a canary's steps with their weights, done/current/next, the stable and candidate slots, and what happens next", () => {
  const strategy: Strategy = { type: "canary", router: "service", route: "web", steps: [{ setWeight: 10 }, { pause: "30s" }, { setWeight: 50 }, { pause: {} }], autoAbort: "pr" };
  const steps = strategySteps(strategy);
  const view = releaseView(strategy, { stableSlot: "blue", candidateSlot: "green", stableImages: { [WEB]: D1 }, pinnedImages: { [WEB]: D2 }, step: steps[1], steps, weight: 10 });
  assert.deepEqual(view.steps.map((s) => [s.number, s.label, s.weight, s.state]),
    [[1, "setWeight 10", 10, "done"], [2, "pause 30s", 10, "current"], [3, "setWeight 50", 50, "next"], [4, "pause until baton confirm", 50, "next"]]);
  assert.deepEqual([view.phase, view.weight, view.stable, view.candidate], ["Paused 10%", 10, [{ image: "web", digest: "1111111" }], [{ image: "web", digest: "2222222" }]]);
  assert.match(view.next, /advances after 30s healthy/);
  // Steady state: no candidate, no current step.
  const stable = releaseView(strategy, { stableSlot: "blue", candidateSlot: "green", stableImages: { [WEB]: D1 }, pinnedImages: { [WEB]: D1 }, steps, weight: 0 });
  assert.deepEqual([stable.phase, stable.candidate, stable.steps.map((s) => s.state)], ["Stable", undefined, ["next", "next", "next", "next"]]);
});

test("environment page: the agent's conditions, inventory (parsed and sorted), applied revisions newest first, and Events newest first", () => {
  const environment: EnvironmentObject = {
    apiVersion: "baton.dev/v1alpha1", kind: "Environment", metadata: { name: "staging", namespace: "baton" }, spec: { path: "environments/staging" },
    status: {
      conditions: [{ type: "Ready", status: "True", reason: "Applied", message: "applied abc", lastTransitionTime: "2026-01-01T00:00:00Z" }],
      lastAppliedRevision: "abc", lastReconcileTime: "2026-01-01T00:01:00Z",
      inventory: { entries: [{ id: "web-staging_web_apps_Deployment", v: "v1", h: "x" }, { id: "_web-staging__Namespace", v: "v1" }, { id: "web-staging_web_rbac.authorization.k8s.io_Role", v: "v1" }] },
      history: [{ revision: "old", appliedAt: "t1", result: "Ready", message: "" }, { revision: "abc", appliedAt: "t2", result: "Ready", message: "" }],
    },
  };
  const event = (reason: string, time: string, type = "Normal") => ({ apiVersion: "v1", kind: "Event", metadata: { name: reason }, reason, type, message: `${reason} happened`, lastTimestamp: time, count: 2 });
  const events = [event("Applied", "2026-01-01T00:00:00Z"), event("DriftCorrected", "2026-01-01T00:05:00Z", "Warning"), ...Array.from({ length: 30 }, (_, i) => event("Old", `2025-12-01T00:${String(i).padStart(2, "0")}:00Z`))];
  const part = clusterPart("environments/staging/", [{ environment, events }]);
  assert.equal(part.state, "ok");
  const view = part.state === "ok" ? part.environments[0] : undefined;
  assert.deepEqual(view?.inventory, [
    { apiVersion: "apps/v1", kind: "Deployment", namespace: "web-staging", name: "web" },
    { apiVersion: "v1", kind: "Namespace", name: "web-staging" },
    { apiVersion: "rbac.authorization.k8s.io/v1", kind: "Role", namespace: "web-staging", name: "web" },
  ]);
  assert.deepEqual(view?.conditions.map((c) => [c.type, c.status, c.reason]), [["Ready", "True", "Applied"]]);
  assert.deepEqual(view?.applied.map((a) => a.revision), ["abc", "old"]);
  assert.equal(view?.events.length, RECENT_EVENTS);
  assert.deepEqual(view?.events.slice(0, 2).map((e) => [e.reason, e.type, e.count]), [["DriftCorrected", "Warning", 2], ["Applied", "Normal", 2]]);
  // None found, or no kubeconfig: the page says what is missing and how to add it.
  const none = clusterPart("environments/staging", []);
  assert.deepEqual([none.state, none.state !== "ok" && /spec\.path/.test(none.hint)], ["not-found", true]);
  assert.match(NO_KUBECONFIG.state !== "ok" ? NO_KUBECONFIG.hint : "", /--kubeconfig FILE/);
});

test("--clone with BATON_GIT_TOKEN: git gets the token as an Authorization header through GIT_CONFIG_*, never in a URL or argument", () => {
  const env = gitTokenEnvironment("ghp_consoleCloneToken");
  assert.deepEqual(env, { GIT_CONFIG_COUNT: "1", GIT_CONFIG_KEY_0: "http.extraHeader", GIT_CONFIG_VALUE_0: `Authorization: Basic ${Buffer.from("x-access-token:ghp_consoleCloneToken").toString("base64")}` });
});
