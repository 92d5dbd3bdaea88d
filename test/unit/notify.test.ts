// Notifications over real HTTP to a local receiver: formats, DingTalk signing, filtering, and failures
// that are reported but never thrown.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import http from "node:http";
import { notify } from "../../src/notify/send.js";
import { dingTalkSignedUrl, formatPayload, type NotifyEvent } from "../../src/notify/format.js";
import { createLogger, silentLogger } from "../../src/log.js";
import { parsePipeline } from "../../src/config/pipeline.js";
import { BatonErrors } from "../../src/errors.js";
import { PassThrough } from "node:stream";

const event: NotifyEvent = { type: "deploy.succeeded", environment: "staging", summary: "web@sha256:abcd123 is live", revision: "0123456789abcdef", at: "2026-11-26T12:00:00Z" };

async function receiver(status = 200): Promise<{ url: string; received: Array<{ url: string; body: unknown }>; close(): Promise<void> }> {
  const received: Array<{ url: string; body: unknown }> = [];
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      received.push({ url: req.url ?? "", body: JSON.parse(body) as unknown });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const address = server.address() as { port: number };
  return { url: `http://127.0.0.1:${address.port}/hook`, received, close: () => new Promise((r) => server.close(() => r())) };
}

test("payload formats for generic webhooks, Slack and DingTalk", () => {
  assert.deepEqual(formatPayload("slack", event), { text: "✅ [staging] web@sha256:abcd123 is live (0123456789ab)" });
  assert.equal((formatPayload("dingtalk", event) as { msgtype: string }).msgtype, "text");
  assert.equal((formatPayload("webhook", event) as { type: string }).type, "deploy.succeeded");
  const signed = new URL(dingTalkSignedUrl("https://oapi.dingtalk.com/robot/send?access_token=t", "SEC", 1700000000000));
  assert.equal(signed.searchParams.get("timestamp"), "1700000000000");
  assert.equal(signed.searchParams.get("sign"), createHmac("sha256", "SEC").update("1700000000000\nSEC").digest("base64"));
  assert.equal(signed.searchParams.get("access_token"), "t");
});

test("notifiers get the events they subscribe to; a failing one is reported, not thrown", async () => {
  const ok = await receiver();
  const broken = await receiver(500);
  try {
    const results = await notify([
      { name: "chat", type: "dingtalk", urlEnv: "BATON_NOTIFY_DING_URL", secretEnv: "BATON_NOTIFY_DING_SECRET", events: ["deploy.succeeded"] },
      { name: "ops", type: "webhook", url: broken.url },
      { name: "prod-only", type: "slack", url: ok.url, environments: ["production"] },
      { name: "missing-env", type: "slack", urlEnv: "BATON_NOTIFY_NOT_SET" },
    ], event, silentLogger, { BATON_NOTIFY_DING_URL: ok.url, BATON_NOTIFY_DING_SECRET: "s3cret" });
    assert.deepEqual(results.map((r) => [r.notifier, r.ok]), [["chat", true], ["ops", false], ["missing-env", false]]);
    assert.equal(ok.received.length, 1);
    assert.match(ok.received[0]?.url ?? "", /timestamp=\d+&sign=/);
    assert.match(results.find((r) => r.notifier === "ops")?.error ?? "", /HTTP 500/);
  } finally {
    await ok.close();
    await broken.close();
  }
});

test("urlEnv and secretEnv may only name BATON_NOTIFY_ variables", () => {
  const pipeline = (n: Record<string, unknown>) => ({ apiVersion: "baton.dev/v1alpha1", kind: "Pipeline", environments: [{ name: "a", path: "a" }], notifications: [{ name: "x", type: "slack", ...n }] });
  assert.ok(parsePipeline(pipeline({ urlEnv: "BATON_NOTIFY_SLACK_URL" })));
  for (const n of [{ urlEnv: "GITHUB_TOKEN" }, { urlEnv: "BATON_NOTIFY_" }, { url: "https://x/y", secretEnv: "GITHUB_APP_PRIVATE_KEY" }]) {
    assert.throws(() => parsePipeline(pipeline(n)), (e: unknown) => {
      assert.ok(e instanceof BatonErrors);
      assert.match(e.errors[0]?.message ?? "", /BATON_NOTIFY_/);
      assert.match(e.errors[0]?.field ?? "", /^notifications\[0\]\.(urlEnv|secretEnv)$/);
      return true;
    });
  }
});

test("a failing notifier's URL token, env value and signing secret appear in no result and no log line", async () => {
  const broken = await receiver(500);
  const slackUrl = `${broken.url.replace("/hook", "")}/services/T0AAAA/B0BBBB/slackPathToken0123456789`;
  const lines: string[] = [];
  const stream = new PassThrough();
  stream.on("data", (c: Buffer) => lines.push(c.toString()));
  try {
    const results = await notify([
      { name: "slack", type: "slack", urlEnv: "BATON_NOTIFY_SLACK" },
      { name: "garbled", type: "webhook", urlEnv: "BATON_NOTIFY_GARBLED" },
      { name: "ding", type: "dingtalk", url: `${broken.url}?access_token=dingQueryToken0123456789`, secretEnv: "BATON_NOTIFY_DING_SECRET" },
      { name: "down", type: "webhook", url: "http://127.0.0.1:9/hooks/downPathToken0123456789" },
    ], event, createLogger("debug", stream), {
      BATON_NOTIFY_SLACK: slackUrl, BATON_NOTIFY_GARBLED: "garbledValueNotAUrl0123456789", BATON_NOTIFY_DING_SECRET: "dingSigningSecret0123456789",
    });
    assert.deepEqual(results.map((r) => r.ok), [false, false, false, false]);
    assert.match(results[0]?.error ?? "", /^HTTP 500 from http:\/\/127\.0\.0\.1:\d+\/…$/);
    assert.equal(results[1]?.error, "environment variable BATON_NOTIFY_GARBLED does not hold a URL");
    const text = JSON.stringify(results) + lines.join("");
    assert.ok(lines.length >= 4, "every failure was logged");
    for (const secret of ["slackPathToken0123456789", "garbledValueNotAUrl0123456789", "dingQueryToken0123456789", "dingSigningSecret0123456789", "downPathToken0123456789"]) {
      assert.ok(!text.includes(secret), `${secret} leaked: ${text}`);
    }
  } finally {
    await broken.close();
  }
});

test("release events reach DingTalk and Slack with their own marker", () => {
  const pending: NotifyEvent = { type: "release.pending", environment: "production", summary: "production: release PendingConfirmation (candidate 0%, step 1/1)", revision: "0123456789abcdef", at: "2026-01-01T00:00:00Z" };
  assert.deepEqual(formatPayload("dingtalk", pending), { msgtype: "text", text: { content: "⏸️ [production] production: release PendingConfirmation (candidate 0%, step 1/1) (0123456789ab)" } });
  assert.match((formatPayload("slack", { ...pending, type: "release.aborted", summary: "auto-abort" }) as { text: string }).text, /^🛑 \[production\] auto-abort/);
});
