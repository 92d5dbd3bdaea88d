/**
 * `npm run demo`: the whole Baton loop on this machine, no cluster and no GitHub needed.
 * Starts the test harness's control plane and git server (and a local GitHub stand-in for pull requests),
 * pushes this repo's example config repo, installs the Environment CRD, runs the agent in-process, then:
 * pin a new digest into testing → promote testing → staging as a PR → merge → rollback by git revert; then
 * production releases blue-green: pending confirmation at weight 0 → baton confirm → all traffic on the new
 * version → old slot retired.
 */
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { startAgent } from "../src/agent/agent.js";
import { parseAgentConfig } from "../src/agent/config.js";
import { ENV_API_VERSION, ENV_KIND, type EnvironmentObject } from "../src/agent/environment.js";
import { shortDigest } from "../src/config/image-ref.js";
import { loadPipeline } from "../src/config/pipeline.js";
import { table } from "../src/cli/output.js";
import { clientReader, readClusters } from "../src/promote/cluster-status.js";
import { startConsole } from "../src/console/server.js";
import { KubeClient } from "../src/kube/client.js";
import { createLogger } from "../src/log.js";
import { history } from "../src/promote/history.js";
import { pin } from "../src/promote/pin.js";
import { promote } from "../src/promote/promote.js";
import { rollback } from "../src/promote/rollback.js";
import { changeRelease } from "../src/promote/release.js";
import { installCrd } from "../test/support/agent-fixture.js";
import { cloneConfigRepo, git, seedConfigRepo } from "../test/support/example-repo.js";
import { GitServer } from "../test/support/git-server.js";
import { GitHubDouble } from "../test/support/github-double.js";
import { waitFor } from "../test/support/processes.js";
import { startTestEnvironment } from "../test/support/testenv.js";
import { KubeConfig } from "@kubernetes/client-node";

const started = Date.now();
const bold = (s: string) => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s);
const step = (n: number, text: string) => console.log(`\n${bold(`── ${n}. ${text}`)} (${((Date.now() - started) / 1000).toFixed(0)}s)`);
const say = (text: string) => console.log(`   ${text}`);
/** A progress line: rewritten in place on a terminal, printed only when it changes otherwise. */
let lastProgress = "";
function progress(text: string): void {
  if (process.stdout.isTTY) process.stdout.write(`\r   ${text}   `);
  else if (text !== lastProgress) console.log(`   ${text}`);
  lastProgress = text;
}
function endProgress(): void {
  if (process.stdout.isTTY) process.stdout.write("\n");
  lastProgress = "";
}
const NEW_DIGEST = `sha256:${"5eed".repeat(16)}`;
const RELEASE_DIGEST = `sha256:${"b1e9".repeat(16)}`;

async function main(): Promise<void> {
  step(1, "Starting a local control plane (etcd, kube-apiserver, controller-manager, scheduler, kwok) and a git server");
  const testenv = await startTestEnvironment();
  const cleanups: Array<() => Promise<unknown>> = [() => testenv.stop()];
  try {
    const kc = new KubeConfig();
    kc.loadFromFile(testenv.cluster.kubeconfig);
    const client = new KubeClient(kc);
    cleanups.unshift(async () => client.close());
    const server = await GitServer.create();
    cleanups.unshift(() => server.destroy());
    const github = await GitHubDouble.start(server);
    cleanups.unshift(() => github.stop());
    await seedConfigRepo(server, "acme/config");
    const dev = await cloneConfigRepo(server, "acme/config", "Dev");
    const gh = (remoteUrl: string | undefined) => github.connect(remoteUrl);
    say(`config repo: ${server.url("acme/config")} (baton.yaml + environments/ from this repository)`);

    step(2, "Installing the Environment CRD and starting the agent");
    await installCrd(client);
    await client.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: "baton-demo" } });
    const pipeline = await loadPipeline(dev);
    for (const env of pipeline.environments) {
      await client.create({ apiVersion: ENV_API_VERSION, kind: ENV_KIND, metadata: { name: env.name, namespace: "baton-demo" }, spec: { url: server.url("acme/config"), path: env.path, interval: "2s", timeout: "60s" } });
    }
    const cacheDir = await fs.mkdtemp(path.join(os.tmpdir(), "baton-demo-cache-"));
    const agent = await startAgent(parseAgentConfig({ namespace: "baton-demo", port: 0, bindAddress: "127.0.0.1", cacheDir, leaderElect: false, resyncMs: 300, logLevel: "silent", allowInsecureHttp: true /* the demo git server is http on loopback */ }), createLogger("silent"), kc);
    cleanups.unshift(() => agent.stop());
    await waitReady(client, pipeline.environments.map((e) => e.name));
    await printStatus(client);

    step(3, `CI pins a freshly built image into testing: baton pin testing web=ghcr.io/acme/web:1.6.0@${shortDigest(NEW_DIGEST)}… --commit`);
    const pinned = await pin({ repo: dev, env: "testing", images: [`web=ghcr.io/acme/web:1.6.0@${NEW_DIGEST}`], mode: "commit" });
    say(`pushed ${pinned.commit?.slice(0, 7)} "${pinned.title}"`);
    await waitRollout(client, "testing", "web-testing", pinned.commit ?? "");
    await printStatus(client);

    step(4, "Promote testing → staging: baton promote testing staging (opens a pull request)");
    const pr = await promote({ repo: dev, from: "testing", to: "staging", github: gh });
    say(`PR #${pr.pull?.number}: ${pr.title}   (branch ${pr.branch})`);
    console.log(pr.body.split("\n").map((l) => `   │ ${l}`).join("\n"));
    say("A reviewer from @acme/qa approves; merging the PR is the deploy:");
    const merged = await mergePull(dev, pr.pull?.number ?? 0, github);
    await waitRollout(client, "staging", "web-staging", merged);
    await printStatus(client);

    step(5, "Something is wrong in staging. Roll back: baton rollback staging (git revert as a pull request)");
    const rb = await rollback({ repo: dev, env: "staging", github: gh });
    say(`PR #${rb.pull?.number}: ${rb.title}; reverts ${rb.reverted.map((c) => c.sha.slice(0, 7)).join(", ")}; rejected in staging: ${rb.rejected.map((r) => `${r.repository}@${shortDigest(r.digest)}`).join(", ")}`);
    const reverted = await mergePull(dev, rb.pull?.number ?? 0, github);
    await waitRollout(client, "staging", "web-staging", reverted);
    await printStatus(client);

    step(6, "Deployment history of staging: baton history staging (git log of environments/staging)");
    const rows = await history(dev, "staging", { limit: 5 });
    console.log(indent(table(["WHEN", "COMMIT", "KIND", "PR", "DIGESTS", "SUBJECT"], rows.map((h) => [h.time.slice(0, 19), h.commit.slice(0, 7), h.kind, h.pr ? `#${h.pr}` : "-", h.digests.map((d) => shortDigest(d.digest)).join(","), h.subject.slice(0, 50)]))));

    step(7, "Production releases blue-green: one commit adds strategy {type: blueGreen, router: service, route: web} to baton.yaml");
    const text = await fs.readFile(path.join(dev, "baton.yaml"), "utf8");
    await fs.writeFile(path.join(dev, "baton.yaml"), `${text.trimEnd()}\n    strategy: {type: blueGreen, router: service, route: web}\n`);
    await git(dev, "commit", "--quiet", "-am", "production releases blue-green");
    await git(dev, "push", "--quiet", "origin", "main");
    await waitRollout(client, "production", "web-production", await git(dev, "rev-parse", "HEAD"), "web-blue");
    say("Deployment web is now web-blue (3 replicas) and web-green (0); Service web selects baton.dev/slot=blue.");
    await printStatus(client);

    step(8, `A new build reaches production: pin ${shortDigest(RELEASE_DIGEST)}… into testing → promote to staging → promote to production`);
    await pin({ repo: dev, env: "testing", images: [`web=ghcr.io/acme/web:1.7.0@${RELEASE_DIGEST}`], mode: "commit" });
    const toStaging = await promote({ repo: dev, from: "testing", to: "staging", github: gh });
    await waitRollout(client, "staging", "web-staging", await mergePull(dev, toStaging.pull?.number ?? 0, github));
    const toProd = await promote({ repo: dev, from: "staging", to: "production", github: gh });
    say(`PR #${toProd.pull?.number}: ${toProd.title}; the same commit writes environments/production/release.yaml:`);
    console.log(indent((await git(dev, "show", `origin/${toProd.branch}:environments/production/release.yaml`)).trimEnd()));
    const released = await mergePull(dev, toProd.pull?.number ?? 0, github);
    await waitRollout(client, "production", "web-production", released, "web-green");
    await printRelease(client);
    say("The new version runs at full size in web-green with zero traffic (Service web-preview reaches it); it waits for confirmation.");

    step(9, "Someone confirms: baton confirm production (a PR that edits release.yaml)");
    const confirmed = await changeRelease({ repo: dev, env: "production", action: "confirm", github: gh });
    say(`PR #${confirmed.pull?.number}: ${confirmed.title}`);
    await waitRollout(client, "production", "web-production", await mergePull(dev, confirmed.pull?.number ?? 0, github), "web-green");
    await printRelease(client);
    say("All traffic is on the new version (green); the old slot (blue) is retired to 0 replicas. Every step above is a commit:");
    console.log(indent(await git(dev, "log", "--format=%h %s", "-4", "--", "environments/production")));
    step(10, "The release board: baton console --repo <clone> --kubeconfig <cluster> (GITHUB_TOKEN set: open PRs and the buttons)");
    const remote = await git(dev, "remote", "get-url", "origin");
    const board = await startConsole({
      repo: dev, host: "127.0.0.1", port: 0, log: createLogger("silent"), pollMs: 1000,
      // The demo's own client, reused by every board read (one reader per cluster).
      cluster: () => readClusters([clientReader("demo", client, ["baton-demo"])]),
      github: async () => gh(remote), actionsGitHub: gh,
    });
    cleanups.unshift(() => board.close());
    console.log(`\n${bold("Done")} in ${((Date.now() - started) / 1000).toFixed(0)}s.`);
    console.log(`\n   baton console: ${bold(board.url)}`);
    // In a terminal the demo stays up for the board (and the cluster, git server and GitHub stand-in behind
    // it) until Ctrl-C; in CI or piped it cleans up at once, as before.
    if (process.stdout.isTTY && !process.env.CI) {
      console.log("   Open it in a browser; Ctrl-C stops the demo and cleans up.");
      await new Promise<void>((resolve) => {
        process.once("SIGINT", () => resolve());
        process.once("SIGTERM", () => resolve());
      });
    }
    console.log("Cleaning up.");
  } finally {
    for (const c of cleanups) await c().catch(() => undefined);
  }
}

const indent = (s: string) => s.split("\n").map((l) => `   ${l}`).join("\n");

/** Merges a PR through the (stand-in) GitHub API, as the merge button does, and updates the clone. */
async function mergePull(dev: string, number: number, github: GitHubDouble): Promise<string> {
  const { sha } = await github.connect(await git(dev, "remote", "get-url", "origin")).mergePull(number, { method: "merge" });
  await git(dev, "pull", "--quiet", "--ff-only");
  say(`merged PR #${number} as ${sha.slice(0, 7)}`);
  return sha;
}

async function environments(client: KubeClient): Promise<EnvironmentObject[]> {
  return (await client.list(ENV_API_VERSION, ENV_KIND, "baton-demo")) as EnvironmentObject[];
}

async function waitReady(client: KubeClient, names: string[]): Promise<void> {
  await waitFor("environments Ready", async () => {
    const envs = await environments(client);
    const ready = envs.filter((e) => e.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"));
    progress(`waiting for the agent: ${ready.length}/${names.length} environments Ready`);
    return ready.length === names.length ? true : undefined;
  }, 120_000, 500);
  endProgress();
}

async function waitRollout(client: KubeClient, env: string, namespace: string, revision: string, deployment = "web"): Promise<void> {
  await waitFor(`${env} at ${revision.slice(0, 7)}`, async () => {
    const e = (await environments(client)).find((x) => x.metadata.name === env);
    const d = await client.get("apps/v1", "Deployment", namespace, deployment);
    const s = (d?.status ?? {}) as { updatedReplicas?: number; availableReplicas?: number };
    const want = (d?.spec as { replicas?: number } | undefined)?.replicas ?? 0;
    progress(`${env}: agent at ${(e?.status?.lastAppliedRevision ?? "-").slice(0, 7)}, rollout ${s.updatedReplicas ?? 0}/${want} updated, ${s.availableReplicas ?? 0}/${want} available`);
    const ready = e?.status?.lastAppliedRevision === revision && e.status.conditions?.some((c) => c.type === "Ready" && c.status === "True");
    return ready ? true : undefined;
  }, 120_000, 300);
  endProgress();
}

/** Production's release as the agent reports it, and what the Services and slots look like in the cluster. */
async function printRelease(client: KubeClient): Promise<void> {
  const prod = (await environments(client)).find((e) => e.metadata.name === "production");
  const release = prod?.status?.release;
  const selector = async (name: string) => ((await client.get("v1", "Service", "web-production", name))?.spec as { selector?: Record<string, string> } | undefined)?.selector?.["baton.dev/slot"] ?? "-";
  const slot = async (name: string) => {
    const d = await client.get("apps/v1", "Deployment", "web-production", name);
    const image = (d?.spec as { template: { spec: { containers: Array<{ image: string }> } } } | undefined)?.template.spec.containers[0]?.image ?? "";
    return `${(d?.spec as { replicas?: number } | undefined)?.replicas ?? 0} replicas, ${shortDigest(image.slice(image.indexOf("@") + 1))}`;
  };
  const stable = release?.stableSlot ?? "blue";
  const traffic = `${stable} ${100 - (release?.weight ?? 0)}%, ${stable === "blue" ? "green" : "blue"} ${release?.weight ?? 0}%`;
  console.log(indent(table(["PHASE", "TRAFFIC", "SERVICE web →", "web-preview →", "web-blue", "web-green"], [[
    release?.phase ?? "-", traffic, await selector("web"), await selector("web-preview"), await slot("web-blue"), await slot("web-green"),
  ]])));
}

async function printStatus(client: KubeClient): Promise<void> {
  const envs = await environments(client);
  const order = ["testing", "staging", "production"];
  envs.sort((a, b) => order.indexOf(a.metadata.name) - order.indexOf(b.metadata.name));
  console.log(indent(table(["ENVIRONMENT", "IMAGE", "DIGEST", "REVISION", "READY", "HISTORY"], envs.flatMap((e) => Object.entries(e.status?.pins ?? {}).map(([repo, digest]) => [
    e.metadata.name, repo, shortDigest(digest), (e.status?.lastAppliedRevision ?? "-").slice(0, 7),
    e.status?.conditions?.find((c) => c.type === "Ready")?.status ?? "Unknown", String(e.status?.history?.length ?? 0),
  ])))));
}

await main();
