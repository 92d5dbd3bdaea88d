import { test } from "node:test";
import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import { createLogger, redactUrl, redactWebhookUrl } from "../../src/log.js";
import { maskSecret, maskSecretPair } from "../../src/kube/mask.js";
import { registerSecret, scrubSecrets } from "../../src/util/secrets.js";

test("URLs lose user info and query strings; webhook URLs keep only their origin", () => {
  assert.equal(redactUrl("https://bob:pw123456@git.example.com/acme/config.git?token=abcdef123"), "https://redacted@git.example.com/acme/config.git?redacted");
  assert.equal(redactWebhookUrl("https://hooks.slack.com/services/T0/B0/xoxbTokenPart"), "https://hooks.slack.com/…");
  assert.equal(redactWebhookUrl("https://oapi.dingtalk.com/robot/send?access_token=abc"), "https://oapi.dingtalk.com/…");
  assert.equal(redactWebhookUrl("not a url with secret"), "(unparseable URL)");
});

test("registered secrets are scrubbed from text and from every log line, in raw, JSON and URL-encoded form", () => {
  registerSecret("s3cr3t\"value/with+chars");
  registerSecret("abc"); // too short to register: ordinary words must survive
  assert.equal(scrubSecrets("x s3cr3t\"value/with+chars y abc"), "x [redacted] y abc");
  const out: string[] = [];
  const stream = new PassThrough();
  stream.on("data", (c: Buffer) => out.push(c.toString()));
  const log = createLogger("info", stream);
  log.info({ err: "failed for https://h/?t=s3cr3t%22value%2Fwith%2Bchars", other: { deep: "s3cr3t\"value/with+chars" } }, "message s3cr3t\"value/with+chars");
  const line = out.join("");
  assert.ok(line.length > 0);
  assert.doesNotMatch(line, /s3cr3t/);
  assert.equal((line.match(/\[redacted\]/g) ?? []).length, 3);
});

test("credentials inside any URL are scrubbed, registered or not", () => {
  assert.equal(scrubSecrets("fatal: could not read from https://x-access-token:ghs_abc123@github.com/acme/c.git"), "fatal: could not read from https://redacted@github.com/acme/c.git");
  assert.equal(scrubSecrets("mail bob@example.com"), "mail bob@example.com");
});

test("render masks every Secret value; other objects are untouched", () => {
  const secret = { apiVersion: "v1", kind: "Secret", metadata: { name: "s" }, data: { a: "c2VjcmV0" }, stringData: { b: "plain" } };
  assert.deepEqual(maskSecret(secret), { ...secret, data: { a: "***" }, stringData: { b: "***" } });
  assert.equal(secret.data.a, "c2VjcmV0", "the input is not modified");
  const cm = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c" }, data: { a: "visible" } };
  assert.equal(maskSecret(cm), cm);
});

test("diff masks Secret values like kubectl diff: changed keys are marked before/after", () => {
  const live = { apiVersion: "v1", kind: "Secret", metadata: { name: "s" }, data: { same: "eA==", changed: "b2xk", gone: "eA==" } };
  const want = { apiVersion: "v1", kind: "Secret", metadata: { name: "s" }, data: { same: "eA==", changed: "bmV3", added: "eQ==" } };
  const [b, a] = maskSecretPair(live, want);
  assert.deepEqual(b.data, { same: "***", changed: "*** (before)", gone: "***" });
  assert.deepEqual(a.data, { same: "***", changed: "*** (after)", added: "***" });
  const [none, created] = maskSecretPair(undefined, want);
  assert.equal(none, undefined);
  assert.deepEqual(created.data, { same: "***", changed: "***", added: "***" });
});
