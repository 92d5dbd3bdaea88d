// The CLI as users and CI run it (spawned asynchronously: the git server and GitHub double live in this process).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import path from "node:path";
import { GitServer } from "../support/git-server.js";
import { GitHubDouble } from "../support/github-double.js";
import { cloneConfigRepo, git, seedConfigRepo } from "../support/example-repo.js";
import { cliArgs } from "../support/cli.js";

const root = path.resolve(import.meta.dirname, "../..");
const D1 = `sha256:${"1".repeat(64)}`;
let server: GitServer;
let github: GitHubDouble;

before(async () => {
  server = await GitServer.create();
  github = await GitHubDouble.start(server);
  await seedConfigRepo(server, "acme/cli");
});
after(async () => {
  // Every request Baton sent and every response it got matched GitHub's OpenAPI description.
  assert.deepEqual(github.violations, []);
  await github.stop();
  await server.destroy();
});

function baton(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, cliArgs(...args), { cwd: root, env: { PATH: process.env.PATH, HOME: process.env.HOME, BATON_GITHUB_WRITE_INTERVAL_MS: "0", ...env }, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

test("pin --commit, promote --dry-run without a token, promote with GitHub, history and status as JSON", async () => {
  const dir = await cloneConfigRepo(server, "acme/cli", "CI");
  const pinned = await baton(["pin", "testing", `web=ghcr.io/acme/web:2.0.0@${D1}`, "--commit", "--repo", dir, "-o", "json"]);
  assert.equal(pinned.code, 0, pinned.stderr);
  assert.equal(JSON.parse(pinned.stdout).action, "pushed");
  await git(dir, "pull", "--quiet", "--ff-only");

  const dry = await baton(["promote", "testing", "staging", "--dry-run", "--repo", dir]);
  assert.equal(dry.code, 0, dry.stderr);
  assert.match(dry.stdout, /would open pull request on branch baton\/promote\/staging\/1111111:\n {2}Promote web@sha256:1111111 to staging/);
  assert.match(dry.stdout, /^\+ +image: ghcr\.io\/acme\/web:2\.0\.0@sha256:1{64}$/m);
  assert.equal(github.requests.length, 0);

  const noToken = await baton(["promote", "testing", "staging", "--repo", dir]);
  assert.equal(noToken.code, 3);
  assert.equal(noToken.stderr.trim().split("\n").length, 1);
  assert.match(noToken.stderr, /^error: .*\(GITHUB_TOKEN_MISSING\) — set GITHUB_TOKEN/);

  const env = { GITHUB_TOKEN: github.token, GITHUB_API_URL: github.baseUrl };
  const opened = await baton(["promote", "testing", "staging", "--repo", dir, "-o", "json"], env);
  assert.equal(opened.code, 0, opened.stderr);
  const result = JSON.parse(opened.stdout) as { action: string; pull: { number: number } };
  assert.equal(result.action, "opened");
  assert.equal(github.pulls[0]?.title, "Promote web@sha256:1111111 to staging");

  const status = await baton(["status", "--repo", dir, "-o", "json"], env);
  assert.equal(status.code, 0, status.stderr);
  const report = JSON.parse(status.stdout) as { environments: Array<{ name: string; openPulls: Array<{ number: number }> }> };
  assert.deepEqual(report.environments.map((e) => [e.name, e.openPulls.map((p) => p.number)]), [["testing", []], ["staging", [result.pull.number]], ["production", []]]);

  const hist = await baton(["history", "testing", "--repo", dir, "-o", "json"]);
  assert.equal(hist.code, 0, hist.stderr);
  const entries = (JSON.parse(hist.stdout) as { entries: Array<{ kind: string; author: string; digests: Array<{ digest: string }> }> }).entries;
  assert.deepEqual(entries.map((e) => [e.kind, e.author, e.digests[0]?.digest]), [["pin", "CI", D1], ["commit", "Seeder", "sha256:951e43dead4712f6baa0794dc4b296f68af2238af7608660875606796287d4d6"]]);
});

test("policy refusals exit 1 with one line; bad flags exit 2; --output json carries the code", async () => {
  const dir = await cloneConfigRepo(server, "acme/cli", "Dev");
  const order = await baton(["promote", "testing", "production", "--dry-run", "--repo", dir]);
  assert.equal(order.code, 1);
  assert.match(order.stderr, /^error: baton\.yaml: environments\.production\.promoteFrom: .*\(PROMOTE_ORDER\)/);
  const json = await baton(["promote", "testing", "production", "--dry-run", "--repo", dir, "-o", "json"]);
  assert.equal(json.code, 1);
  assert.equal((JSON.parse(json.stdout) as { errors: Array<{ code: string }> }).errors[0]?.code, "PROMOTE_ORDER");
  const steps = await baton(["rollback", "staging", "--steps", "0", "--repo", dir]);
  assert.equal(steps.code, 2);
  assert.match(steps.stderr, /--steps must be at least 1/);
  const both = await baton(["pin", "testing", `web=ghcr.io/acme/web@${D1}`, "--repo", dir]);
  assert.equal(both.code, 2);
  assert.match(both.stderr, /choose one of --commit or --pr/);
  const nothing = await baton(["rollback", "production", "--dry-run", "--repo", dir]);
  assert.equal(nothing.code, 1);
  assert.match(nothing.stderr, /ROLLBACK_NOTHING/);
  const owners = await baton(["codeowners", "--repo", dir]);
  assert.equal(owners.code, 0);
  assert.match(owners.stdout, /^\/environments\/production\/ @acme\/sre$/m);
});
