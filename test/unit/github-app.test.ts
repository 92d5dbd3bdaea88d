// GitHub App authentication: Baton signs a JWT with the app key, exchanges it for an installation token,
// and uses that token, against the local GitHub stand-in (traffic checked against GitHub's OpenAPI).
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { connectGitHub } from "../../src/github/connect.js";
import { GitHubDouble } from "../support/github-double.js";

const keys = () => generateKeyPairSync("rsa", { modulusLength: 2048, publicKeyEncoding: { type: "spki", format: "pem" }, privateKeyEncoding: { type: "pkcs1", format: "pem" } });

test("GitHub App credentials buy an installation token that Baton then uses", async () => {
  const github = await GitHubDouble.start();
  const bare = await fs.mkdtemp(path.join(os.tmpdir(), "baton-app-"));
  execFileSync("git", ["init", "--quiet", "--bare", bare]);
  github.addRepo("acme/config", bare);
  try {
    const { publicKey, privateKey } = keys();
    github.enableApp(4242, 77, publicKey);
    const env = { GITHUB_APP_ID: "4242", GITHUB_APP_INSTALLATION_ID: "77", GITHUB_APP_PRIVATE_KEY: privateKey };
    const api = connectGitHub({ url: github.baseUrl, repo: "acme/config", env });
    assert.deepEqual(await api.listOpenPulls("promotion"), []);
    assert.ok(github.requests.some((r) => r === "POST /api/v3/app/installations/77/access_tokens"));
    assert.deepEqual(github.violations, []);

    const wrongKey = connectGitHub({ url: github.baseUrl, repo: "acme/config", env: { ...env, GITHUB_APP_PRIVATE_KEY: keys().privateKey } });
    await assert.rejects(wrongKey.listOpenPulls("promotion"), (e: Error & { code?: string }) => e.code === "GITHUB_FAILED");
    assert.throws(() => connectGitHub({ repo: "acme/config", env: { GITHUB_APP_ID: "4242" } }), (e: Error & { code?: string }) => e.code === "USAGE");
  } finally {
    await fs.rm(bare, { recursive: true, force: true });
    await github.stop();
  }
});
