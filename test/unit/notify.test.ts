// Notifications over real HTTP to a local receiver: formats, DingTalk signing, filtering, and failures
// that are reported but never thrown.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import http from "node:http";
import { notify } from "../../src/notify/send.js";
import { dingTalkSignedUrl, formatPayload, type NotifyEvent } from "../../src/notify/format.js";
import { silentLogger } from "../../src/log.js";

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
      { name: "chat", type: "dingtalk", urlEnv: "DING_URL", secretEnv: "DING_SECRET", events: ["deploy.succeeded"] },
      { name: "ops", type: "webhook", url: broken.url },
      { name: "prod-only", type: "slack", url: ok.url, environments: ["production"] },
      { name: "missing-env", type: "slack", urlEnv: "NOT_SET" },
    ], event, silentLogger, { DING_URL: ok.url, DING_SECRET: "s3cret" });
    assert.deepEqual(results.map((r) => [r.notifier, r.ok]), [["chat", true], ["ops", false], ["missing-env", false]]);
    assert.equal(ok.received.length, 1);
    assert.match(ok.received[0]?.url ?? "", /timestamp=\d+&sign=/);
    assert.match(results.find((r) => r.notifier === "ops")?.error ?? "", /HTTP 500/);
  } finally {
    await ok.close();
    await broken.close();
  }
});
