// Secrets stay secret: an agent configured with every kind of credential (git basic auth, a GitHub token,
// a webhook secret, notification URLs with tokens in path and query, a DingTalk signing secret, a Secret
// in git) runs reconciles that fail in every way it can, and then its log, the Environments' status and
// the Events are scanned for every one of those values: zero hits. `baton render` and `baton diff` mask
// Secret values too.
// test-lane: shares-cluster
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promises as fs } from "node:fs";
import http from "node:http";
import path from "node:path";
import { promisify } from "node:util";
import { artifactPath } from "../support/artifacts.js";
import { agentFixture, readyCondition, isReady } from "../support/agent-fixture.js";
import { waitFor } from "../support/processes.js";
import { cliArgs } from "../support/cli.js";

const repoRoot = path.resolve(import.meta.dirname, "../..");
const b64 = (s: string) => Buffer.from(s).toString("base64");

const SECRETS = {
  gitPassword: "gitPassw0rd-8c1f2a",
  wrongGitPassword: "wrongPassw0rd-77de01",
  githubToken: "ghp_scanTestToken0123456789abcdef",
  webhookSecret: "hookSecret-5a9e3b7c",
  slackPathToken: "slackPathTokenXq81Zr00",
  dingAccessToken: "dingAccessToken9183fe",
  dingSigningSecret: "SECdingSigning4419ab",
  garbledEnvValue: "garbledEnvValueNotAUrl-9f3",
  secretInGit: "dbPassw0rd-in-git-31c8",
  secretInGitNext: "dbPassw0rd-next-7e02",
  responseBody: "RESPONSE-BODY-MARKER-0b7d",
};

test("no configured secret value appears in the agent's log, status or Events; render and diff mask Secret data", async () => {
  // One loopback server plays a chat endpoint, a GitHub API and a non-git "repo": it answers 500/HTML.
  const hits: string[] = [];
  const server = http.createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`);
    req.resume();
    res.writeHead(req.url?.startsWith("/any/") ? 200 : 500, { "content-type": "text/html" }).end(`<html>${SECRETS.responseBody}</html>`);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  for (const [k, v] of Object.entries({
    BATON_NOTIFY_SCAN_SLACK: `${base}/services/T00/B00/${SECRETS.slackPathToken}`,
    BATON_NOTIFY_SCAN_GARBLED: SECRETS.garbledEnvValue,
    BATON_NOTIFY_SCAN_DING_SECRET: SECRETS.dingSigningSecret,
  })) process.env[k] = v;

  const P = "environments/scan";
  const pipeline = (namespace?: string) => [
    "apiVersion: baton.dev/v1alpha1", "kind: Pipeline", "environments:", `  - {name: scan, path: ${P}${namespace ? `, namespace: ${namespace}` : ""}}`, "notifications:",
    "  - {name: slack, type: slack, urlEnv: BATON_NOTIFY_SCAN_SLACK}",
    "  - {name: garbled, type: webhook, urlEnv: BATON_NOTIFY_SCAN_GARBLED}",
    `  - {name: ding, type: dingtalk, url: "${base}/robot/send?access_token=${SECRETS.dingAccessToken}", secretEnv: BATON_NOTIFY_SCAN_DING_SECRET}`, "",
  ].join("\n");
  const secretYaml = (value: string) => `apiVersion: v1\nkind: Secret\nmetadata: {name: db}\ntype: Opaque\ndata:\n  password: ${b64(value)}\n`;
  const auth = { username: "agent", password: SECRETS.gitPassword };
  const f = await agentFixture("secrets", {
    "baton.yaml": pipeline(),
    [`${P}/config.yaml`]: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app}\ndata: {mode: scan}\n",
    [`${P}/secret.yaml`]: secretYaml(SECRETS.secretInGit),
  }, { auth });
  try {
    // The namespace is known only now; `baton diff` needs it in baton.yaml.
    await f.repo.commit({ "baton.yaml": pipeline(f.namespace) }, "namespace");
    await f.client.create({ apiVersion: "v1", kind: "Secret", metadata: { name: "git-auth", namespace: f.namespace }, stringData: { ...auth, githubToken: SECRETS.githubToken } });
    await f.client.create({ apiVersion: "v1", kind: "Secret", metadata: { name: "wrong-auth", namespace: f.namespace }, stringData: { username: "agent", password: SECRETS.wrongGitPassword } });
    const agent = await f.startAgent({ webhookSecret: SECRETS.webhookSecret });
    await f.createEnvironment("good", { path: P, secretRef: { name: "git-auth" }, github: { repository: "acme/config", apiUrl: `${base}/api/v3` } });
    await f.createEnvironment("badcreds", { path: P, secretRef: { name: "wrong-auth" } });
    await f.createEnvironment("notgit", { path: P, url: `${base}/any/path#` });

    await f.waitForEnvironment("good", "Ready", (e) => isReady(e));
    await f.waitForEnvironment("badcreds", "git auth failure", (e) => readyCondition(e)?.reason === "GitOperationFailed");
    const notgit = await f.waitForEnvironment("notgit", "not a git server", (e) => readyCondition(e)?.reason === "GitOperationFailed");
    assert.match(readyCondition(notgit)?.message ?? "", /did not answer as a git server/);
    const badSignature = await fetch(`http://127.0.0.1:${agent.port}/webhook`, {
      method: "POST", headers: { "content-type": "application/json", "x-github-event": "push", "x-hub-signature-256": `sha256=${"0".repeat(64)}` }, body: "{}",
    });
    assert.equal(badSignature.status, 401);
    // The failing notifications and GitHub calls have been made (and logged) once the server saw them.
    await waitFor("notifications and GitHub calls", async () => (hits.some((h) => h.startsWith("POST /services/")) && hits.some((h) => h.startsWith("POST /robot/send"))
      && hits.some((h) => h.includes("/deployments")) ? true : undefined), 30_000);

    // Control: the values are really in play (the Secret is applied with the value from git).
    const live = await f.client.get("v1", "Secret", f.namespace, "db");
    assert.equal((live?.data as Record<string, string> | undefined)?.password, b64(SECRETS.secretInGit));

    // baton render / baton diff on a clone where the Secret's value changed (not pushed).
    await fs.writeFile(path.join(f.repo.dir, P, "secret.yaml"), secretYaml(SECRETS.secretInGitNext));
    const kubeconfig = process.env.BATON_TEST_KUBECONFIG ?? "";
    const cli = (...args: string[]) => promisify(execFile)(process.execPath, cliArgs(...args, "--repo", f.repo.dir), { cwd: repoRoot })
      .catch((e: { stdout?: string; stderr?: string }) => ({ stdout: e.stdout ?? "", stderr: e.stderr ?? "" }));
    const render = await cli("render", "scan");
    assert.match(render.stdout, /password: "\*\*\*"/);
    const shown = await cli("render", "scan", "--show-secrets");
    assert.ok(shown.stdout.includes(b64(SECRETS.secretInGitNext)), "--show-secrets prints the value (control)");
    const diff = await cli("diff", "scan", "--kubeconfig", kubeconfig);
    assert.match(diff.stdout, /-\s+password: "\*\*\* \(before\)"/, diff.stdout + diff.stderr);
    assert.match(diff.stdout, /\+\s+password: "\*\*\* \(after\)"/);

    // The scan.
    await new Promise((r) => setTimeout(r, 200)); // let the log stream flush
    const logFile = artifactPath(`cluster-logs/agent-${f.namespace}-0.log`);
    // Events are written after the status they follow (off the reconcile's critical path): wait until each
    // Environment's are there, the failing ones' included, whose messages quote the git errors.
    const events = await waitFor("an Event of every Environment", async () => {
      const all = await f.client.list("v1", "Event", f.namespace);
      const about = new Set(all.map((e) => (e as { involvedObject?: { name?: string } }).involvedObject?.name));
      return ["good", "badcreds", "notgit"].every((n) => about.has(n)) ? all : undefined;
    }, 30_000);
    const haystacks: Record<string, string> = {
      log: await fs.readFile(logFile, "utf8"),
      status: JSON.stringify(await Promise.all(["good", "badcreds", "notgit"].map((n) => f.environment(n).then((e) => e?.status)))),
      events: JSON.stringify(events.map((e) => e.message)),
      render: render.stdout + render.stderr,
      diff: diff.stdout + diff.stderr,
    };
    assert.match(haystacks.log ?? "", /notification failed/, "the log holds the notification failures (control)");
    assert.ok(events.length > 0, "events were recorded (control)");
    const leaks: string[] = [];
    for (const [name, value] of Object.entries(SECRETS)) {
      for (const form of [value, b64(value), encodeURIComponent(value)]) {
        for (const [where, text] of Object.entries(haystacks)) if (text.includes(form)) leaks.push(`${name} in ${where}`);
      }
    }
    assert.deepEqual(leaks, []);
  } finally {
    for (const k of ["BATON_NOTIFY_SCAN_SLACK", "BATON_NOTIFY_SCAN_GARBLED", "BATON_NOTIFY_SCAN_DING_SECRET"]) delete process.env[k];
    await f.cleanup();
    server.close();
  }
});
