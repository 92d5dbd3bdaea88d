import { test } from "node:test";
import assert from "node:assert/strict";
import { formatImageRef, imageShortName, parseImageRef, shortDigest } from "../../src/config/image-ref.js";
import { formatDuration, parseDuration } from "../../src/config/duration.js";

const D = `sha256:${"a".repeat(64)}`;

test("parses repository, tag and digest", () => {
  assert.deepEqual(parseImageRef(`ghcr.io/acme/web:1.2@${D}`), { ok: true, ref: { repository: "ghcr.io/acme/web", tag: "1.2", digest: D } });
  assert.deepEqual(parseImageRef(`localhost:5000/web@${D}`), { ok: true, ref: { repository: "localhost:5000/web", digest: D } });
  assert.deepEqual(parseImageRef("nginx"), { ok: true, ref: { repository: "nginx" } });
});

test("rejects malformed references and digests", () => {
  assert.equal(parseImageRef("ghcr.io/Acme/web").ok, false);
  assert.equal(parseImageRef("web@sha256:abc").ok, false);
  assert.equal(parseImageRef(`web@sha256:${"A".repeat(64)}`).ok, false);
  assert.equal(parseImageRef("we b").ok, false);
  const r = parseImageRef("web@md5:0123456789abcdef0123456789abcdef");
  assert.equal(r.ok === false && r.problem, "bad-digest");
});

test("formats round-trip and short forms", () => {
  const text = `ghcr.io/acme/web:1.2@${D}`;
  const r = parseImageRef(text);
  assert.ok(r.ok);
  assert.equal(formatImageRef(r.ref), text);
  assert.equal(shortDigest(D), "aaaaaaa");
  assert.equal(imageShortName("ghcr.io/acme/web"), "web");
});

test("durations", () => {
  assert.equal(parseDuration("1h30m"), 5_400_000);
  assert.equal(parseDuration("10s"), 10_000);
  assert.equal(parseDuration("ten"), undefined);
  assert.equal(parseDuration(""), undefined);
  assert.equal(formatDuration(5_400_000), "1h30m");
});
