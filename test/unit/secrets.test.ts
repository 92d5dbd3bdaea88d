import { test } from "node:test";
import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import { createLogger, redactUrl, redactWebhookUrl } from "../../src/log.js";
import { diffEntry } from "../../src/cli/diff.js";
import { objectId } from "../../src/config/objects.js";
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

test("diff compares a stringData Secret as the API server stores it, and never prints its values", () => {
  const b64 = (s: string) => Buffer.from(s).toString("base64");
  const inGit = { apiVersion: "v1", kind: "Secret", metadata: { name: "db", namespace: "app", labels: { "baton.dev/environment": "prod" } }, type: "Opaque", stringData: { password: "pw-in-git-7f3a", user: "app" } };
  const desired = { id: objectId(inGit), object: inGit, source: { file: "environments/prod/secret.yaml", line: 1 } };
  // What the server keeps after applying it: base64 data, no stringData, plus its own metadata.
  const live = { apiVersion: "v1", kind: "Secret", metadata: { ...inGit.metadata, uid: "u1", resourceVersion: "7", creationTimestamp: "2026-01-01T00:00:00Z" }, type: "Opaque", data: { password: b64("pw-in-git-7f3a"), user: b64("app") } };
  // Applied by this environment (in the inventory) or found without an inventory: no difference either way.
  assert.deepEqual(diffEntry({ action: "update", desired, hash: "h" }, live, false), { object: "v1 Secret app/db", action: "unchanged", patch: "" });
  // A key changed in git: the diff names the key and masks both sides.
  const changed = { ...inGit, stringData: { password: "pw-next-91c2", user: "app" } };
  const entry = diffEntry({ action: "update", desired: { ...desired, object: changed }, hash: "h2" }, live, true);
  assert.equal(entry.action, "update");
  assert.match(entry.patch, /^-\s+password: "\*\*\* \(before\)"$/m);
  assert.match(entry.patch, /^\+\s+password: "\*\*\* \(after\)"$/m);
  assert.match(entry.patch, /^ \s+user: "\*\*\*"$/m, "the unchanged key is context, masked");
  assert.doesNotMatch(entry.patch, /stringData/, "git's side is shown as stored: data");
  for (const value of ["pw-in-git-7f3a", "pw-next-91c2", b64("pw-in-git-7f3a"), b64("pw-next-91c2"), b64("app")]) assert.ok(!entry.patch.includes(value), value);
  // data and stringData together: stringData wins for a key in both, as on the server.
  const both = { ...inGit, data: { password: b64("old"), extra: b64("x") }, stringData: { password: "pw-in-git-7f3a", user: "app" } };
  const liveBoth = { ...live, data: { ...live.data, extra: b64("x") } };
  assert.equal(diffEntry({ action: "update", desired: { ...desired, object: both }, hash: "h3" }, liveBoth, false).action, "unchanged");
});
