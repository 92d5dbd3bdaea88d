// The agent reports each applied revision as a GitHub Deployment (in_progress → success), through octokit
// against the local GitHub double, whose traffic is checked against GitHub's OpenAPI description.
// test-lane: shares-cluster
import { test } from "node:test";
import path from "node:path";
import assert from "node:assert/strict";
import { agentFixture, isReady } from "../support/agent-fixture.js";
import { digest, underPath, webApp } from "../support/config-repo.js";
import { GitHubDouble } from "../support/github-double.js";
import { waitFor } from "../support/processes.js";

test("applied revisions become GitHub deployments with in_progress and success statuses", async () => {
  const github = await GitHubDouble.start();
  const f = await agentFixture("ghdeploy", underPath("environments/staging", webApp(`ghcr.io/acme/web@${digest("gh")}`)));
  github.addRepo("acme/config", path.join(f.server.root, "config.git"));
  try {
    await f.client.create({ apiVersion: "v1", kind: "Secret", metadata: { name: "creds", namespace: f.namespace }, stringData: { githubToken: github.token } });
    await f.createEnvironment("staging", { path: "environments/staging", secretRef: { name: "creds" }, github: { repository: "acme/config", apiUrl: github.baseUrl } });
    await f.startAgent();
    const first = await f.repo.git("rev-parse", "HEAD");
    await f.waitForEnvironment("staging", "Ready", (e) => isReady(e, first));
    const deployment = await waitFor("deployment success", async () => {
      const d = github.deployments.find((x) => x.sha === first || x.ref === first);
      return d && d.statuses.some((s) => s.state === "success") ? d : undefined;
    }, 10_000);
    assert.equal(deployment.environment, "staging");
    assert.deepEqual(deployment.statuses.map((s) => s.state), ["in_progress", "success"]);
    assert.deepEqual(github.violations, []);
  } finally {
    await f.cleanup();
    await github.stop();
  }
});
