import { test } from "node:test";
import assert from "node:assert/strict";
import { BatonError } from "../../src/errors.js";
import { checkRemoteUrl, describeGitFailure } from "../../src/git/fetch.js";

const refused = (url: string, options = {}) => {
  try {
    checkRemoteUrl(url, options);
    return undefined;
  } catch (e) {
    assert.ok(e instanceof BatonError);
    assert.equal(e.code, "GIT_URL_NOT_ALLOWED");
    assert.equal(e.field, "spec.url");
    return e;
  }
};

test("spec.url: https only; http only with --allow-insecure-http; no credentials in the URL", () => {
  assert.equal(refused("https://github.com/acme/config.git"), undefined);
  assert.ok(refused("http://git.local/acme/config.git"));
  assert.equal(refused("http://127.0.0.1:8080/config.git", { allowInsecureHttp: true }), undefined);
  for (const url of ["ssh://git@github.com/acme/config.git", "file:///etc", "git://host/r", "ftp://x/y", "not a url"]) assert.ok(refused(url, { allowInsecureHttp: true }), url);
  const withCreds = refused("https://bob:hunter2@github.com/acme/config.git");
  assert.ok(withCreds && !withCreds.message.includes("hunter2"), withCreds?.message);
});

test("git failures are described in Baton's words, never with the server's answer", () => {
  const body = "<html>internal admin page: SECRET-PAYLOAD</html>";
  const smart = Object.assign(new Error(`Remote did not reply using the "smart" HTTP protocol. Expected "001e# service=git-upload-pack" but received: ${body}`), { code: "SmartHttpError", data: { preview: body, response: body } });
  const http = Object.assign(new Error(`HTTP Error: 500 ${body}`), { code: "HttpError", data: { statusCode: 500, statusMessage: body, response: body } });
  const denied = Object.assign(new Error("HTTP Error: 401 Unauthorized"), { code: "HttpError", data: { statusCode: 401, statusMessage: "Unauthorized", response: "" } });
  assert.doesNotMatch(describeGitFailure(smart).reason, /SECRET/);
  assert.equal(describeGitFailure(http).reason, "the server answered HTTP 500");
  assert.equal(describeGitFailure(denied).auth, true);
  assert.match(describeGitFailure(Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" })).reason, /ECONNREFUSED/);
  assert.equal(describeGitFailure(new Error(body)).reason, "unexpected error");
});
