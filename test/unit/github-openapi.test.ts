// The GitHub double's OpenAPI check is strict enough to catch wrong calls (so the integration tests can fail).
import { test } from "node:test";
import assert from "node:assert/strict";
import { validateExchange } from "../support/openapi.js";

const q = (s = "") => new URLSearchParams(s);
const pull = { number: 1, title: "t", body: "", state: "open", html_url: "https://x/1", head: { ref: "b" }, base: { ref: "main" }, labels: [{ name: "baton" }] };

test("valid pull calls pass", () => {
  assert.deepEqual(validateExchange({ method: "POST", path: "/repos/acme/config/pulls", query: q(), body: { title: "t", head: "b", base: "main", body: "x" }, status: 201, response: pull }), []);
  assert.deepEqual(validateExchange({ method: "GET", path: "/repos/acme/config/pulls", query: q("state=open&head=acme:b&per_page=100"), body: undefined, status: 200, response: [pull] }), []);
  assert.deepEqual(validateExchange({ method: "POST", path: "/repos/acme/config/issues/1/labels", query: q(), body: { labels: ["baton", "env:staging"] }, status: 200, response: [{ name: "baton" }] }), []);
});

test("wrong calls are reported", () => {
  const bad = (x: Parameters<typeof validateExchange>[0], re: RegExp) => assert.ok(validateExchange(x).some((p) => re.test(p)), `${JSON.stringify(validateExchange(x))} !~ ${re}`);
  bad({ method: "POST", path: "/repos/acme/config/pullz", query: q(), body: {}, status: 201, response: {} }, /no such operation/);
  bad({ method: "GET", path: "/repos/acme/config/pulls", query: q("state=merged"), body: undefined, status: 200, response: [] }, /"merged" not in/);
  bad({ method: "GET", path: "/repos/acme/config/pulls", query: q("colour=red"), body: undefined, status: 200, response: [] }, /undeclared query parameter colour/);
  bad({ method: "POST", path: "/repos/acme/config/pulls", query: q(), body: { title: 5, head: "b", base: "main" }, status: 201, response: pull }, /request\.title: expected string/);
  bad({ method: "POST", path: "/repos/acme/config/statuses/0123456789012345678901234567890123456789", query: q(), body: { state: "amber", context: "baton/policy" }, status: 201, response: {} }, /"amber" not in/);
  bad({ method: "POST", path: "/repos/acme/config/pulls", query: q(), body: { title: "t", head: "b", base: "main" }, status: 201, response: { ...pull, number: "1" } }, /response\.number: expected integer/);
  bad({ method: "POST", path: "/repos/acme/config/pulls", query: q(), body: { title: "t", head: "b", base: "main" }, status: 299, response: pull }, /status 299 is not a documented response/);
});
