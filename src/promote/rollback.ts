/**
 * `baton rollback <env>`: revert the environment's latest pin changes with `git revert` — no new rendering
 * logic — and record the digests they brought as rejected in `.baton/rejected.yaml`, in the same commit.
 * Changes are found from content (changes.ts), not from trailers, so a squash or merge commit of a
 * promotion PR (reverted with `-m 1`), rebased commits, and hand edits of a digest are all rolled back
 * alike; a change that an earlier rollback or revert already undid is skipped. Opens a PR labelled
 * `rollback`, or pushes straight to the base branch with --push where the policy allows it. In a strategy
 * environment release.yaml is rewritten, not reverted: the restored digests become stable at once.
 */
import { BatonError } from "../errors.js";
import { isRemoteChart, loadPipeline, PIPELINE_FILE, type PipelineEnvironment } from "../config/pipeline.js";
import { findPinSites, type PinSite } from "../config/edit.js";
import { chartValuesDefaults } from "../config/helm.js";
import { readEnvironmentFiles } from "../config/repo.js";
import type { Pin } from "../config/pins.js";
import type { GitHubApi } from "../github/api.js";
import { GitWorkspace, type LogEntry } from "./git-workspace.js";
import { imagesPhrase, LABELS, rollbackBranch } from "./naming.js";
import { checkDirectPush } from "./policy.js";
import { publishPull, type Published } from "./publish.js";
import { addRejected, formatRejected, parseRejected, REJECTED_FILE, type RejectedEntry } from "./rejected.js";
import { formatCommitMessage, TRAILER, type Trailer } from "./trailers.js";
import { pinChanges, standingChanges, type PinChange } from "./changes.js";
import { renderedPinSource } from "./rendered-pins.js";
import { POLICY_CONTEXT, type Progress } from "./promote.js";
import { announce } from "../notify/announce.js";
import { formatRelease, releaseFilePath } from "../release/release.js";
import { afterRollback } from "../release/transitions.js";
import { readReleaseState } from "./release.js";
import { destinationOf } from "./waves.js";

/** One entry per repository and digest. */
function dedupeImages<T extends { repository: string; digest: string }>(images: T[]): T[] {
  return [...new Map(images.map((i) => [`${i.repository}@${i.digest}`, i])).values()];
}

export interface RollbackRequest {
  repo: string;
  env: string;
  /** Revert every promotion after this revision. */
  to?: string;
  /** Revert the last N promotions (default 1). */
  steps?: number;
  push?: boolean;
  dryRun?: boolean;
  github?: (remoteUrl: string | undefined) => GitHubApi;
  progress?: Progress;
  /** Clock, for the `at` of rejected entries (tests). */
  now?: () => Date;
}

export interface RevertedCommit {
  sha: string;
  subject: string;
  images: Array<{ repository: string; digest: string }>;
}

export interface RollbackResult {
  action: "dry-run" | "pushed" | "opened" | "updated";
  env: string;
  reverted: RevertedCommit[];
  /** Each with the environment (target) it is rejected in. */
  rejected: Array<RejectedEntry & { env: string }>;
  title: string;
  diff: string;
  branch?: string;
  commit?: string;
  pull?: Published["pull"];
}

export async function rollback(req: RollbackRequest): Promise<RollbackResult> {
  const progress = req.progress ?? (() => undefined);
  const ws = await GitWorkspace.open(req.repo);
  const base = await ws.currentBranch();
  await ws.ensureClean();
  const github = req.dryRun || req.push ? undefined : req.github?.(await ws.remoteUrl());
  if (!req.dryRun && !req.push && !github) throw new BatonError("GITHUB_TOKEN_MISSING", "rollback opens a pull request and needs GitHub", { hint: "set GITHUB_TOKEN, use --push where allowDirectPush is set, or --dry-run" });
  if (!req.dryRun) {
    progress(`fetching ${base}`);
    await ws.syncBase(base);
  }
  const pipeline = await loadPipeline(req.repo);
  // A target rolls back alone; a stage rolls back every target (one commit); a plain environment is both.
  const envs = destinationOf(pipeline, req.env).targets;
  if (req.push) for (const env of envs) checkDirectPush(pipeline, env.name, "--push");
  const to = req.to ? await ws.head(req.to) : undefined;
  const picked: Array<{ env: PipelineEnvironment; changes: PinChange[] }> = [];
  for (const env of envs) {
    const source = await renderedPinSource(ws, env);
    const standing = standingChanges(await pinChanges(ws, env.path, source ? { source } : {}));
    const afterTo: PinChange[] = [];
    if (to) for (const c of standing) if (!(await ws.isAncestor(c.entry.sha, to))) afterTo.push(c);
    const changes = to ? afterTo : standing.slice(0, req.steps ?? 1);
    // Only kustomize environments render files outside their folder (a plain folder's change is its own).
    if (source) for (const c of changes) await refuseSharedChange(ws, c.entry, env.path, env.name);
    if (changes.length > 0) picked.push({ env, changes });
  }
  if (picked.length === 0) {
    throw new BatonError("ROLLBACK_NOTHING", `no change of ${req.env}'s digests${req.to ? ` after ${req.to}` : ""} to roll back`, {
      file: envs[0]?.path ?? req.env, hint: "baton history " + req.env + " lists what was deployed",
    });
  }
  // One commit may have changed several targets (a wave); each is reverted once, newest first.
  const paths = picked.map((p) => p.env.path);
  const order = (await ws.log(paths, { firstParent: true })).map((e) => e.sha);
  const candidates = [...new Map(picked.flatMap((p) => p.changes).map((c) => [c.entry.sha, c.entry])).values()].sort((a, b) => order.indexOf(a.sha) - order.indexOf(b.sha));
  const reverted: RevertedCommit[] = candidates.map((entry) => ({
    sha: entry.sha, subject: entry.subject,
    images: dedupeImages(picked.flatMap((p) => p.changes.filter((c) => c.entry.sha === entry.sha).flatMap((c) => c.deltas.flatMap((d) => (d.to && !isRemoteChart(d.repository) ? [{ repository: d.repository, digest: d.to }] : []))))),
  }));
  const at = (req.now ?? (() => new Date()))().toISOString();
  const rejectedIn = picked.map((p) => ({ env: p.env.name, entries: p.changes.flatMap((c) => c.deltas.flatMap((d) => (d.to ? [{ repository: d.repository, digest: d.to, reason: `rolled back (reverted ${c.entry.sha.slice(0, 7)})`, at }] : []))) }));
  const rejected = rejectedIn.flatMap((r) => r.entries.map((e) => ({ ...e, env: r.env })));
  const rejectedPins: Pin[] = dedupeImages(rejected).map((r) => ({ repository: r.repository, digest: r.digest }));
  const title = `Roll back ${imagesPhrase(rejectedPins)} in ${req.env}`;
  const diffs: string[] = [];
  for (const c of candidates) diffs.push(await ws.diff(c.sha, `${c.sha}^`, paths));
  const result: RollbackResult = { action: "dry-run", env: req.env, reverted, rejected, title, diff: diffs.join("") };
  if (req.dryRun) return result;

  // A strategy environment's release.yaml is not reverted line by line (confirm and retire commits changed
  // it since): it is rewritten from the restored pins (transitions.ts afterRollback).
  const releases: Array<{ env: PipelineEnvironment; file: string; state: Awaited<ReturnType<typeof readReleaseState>>["state"] }> = [];
  for (const { env } of picked) if (env.strategy) releases.push({ env, file: releaseFilePath(env), state: (await readReleaseState(req.repo, pipeline, env.name)).state });
  const start = await ws.head();
  const branch = req.push ? base : rollbackBranch(req.env, start);
  if (!req.push) await ws.createBranch(branch);
  try {
    for (const c of candidates) {
      progress(`reverting ${c.sha.slice(0, 7)} ${c.subject}`);
      // The commit's own release.yaml, so its revert applies cleanly; the file is rewritten below anyway.
      for (const r of releases) if ((await ws.treeBlobs(c.sha, r.file)).length > 0) await ws.checkoutFile(c.sha, r.file);
      const outcome = await ws.revertNoCommit(c.sha, { merge: c.parents.length > 1 });
      if (!outcome.ok) throw await conflictError(ws, c, outcome.conflicts, new Set(candidates.map((x) => x.sha)));
    }
    // A wave's commit also changed the wave's other targets: only the folders rolled back keep the revert.
    await ws.restoreOutside(start, [...paths, REJECTED_FILE]);
    let list = parseRejected(await ws.readFile(REJECTED_FILE));
    for (const r of rejectedIn) list = addRejected(list, r.env, r.entries);
    await ws.writeEdits([{ file: REJECTED_FILE, before: (await ws.readFile(REJECTED_FILE)) ?? "", after: formatRejected(list) }]);
    const sites: PinSite[] = [];
    for (const { env } of picked) {
      const now = findPinSites(await readEnvironmentFiles(req.repo, env), { valuesDefaults: await chartValuesDefaults(req.repo, env) });
      sites.push(...now);
      const release = releases.find((r) => r.env.name === env.name);
      if (release) {
        // One digest per repository, the first site winning as in pinsInFiles (fromEntries keeps the last).
        const restored = Object.fromEntries(now.filter((site) => site.current.digest).map((site) => [site.repository, site.current.digest ?? ""]).reverse());
        await ws.writeEdits([{ file: release.file, before: (await ws.readFile(release.file)) ?? "", after: formatRelease(afterRollback(release.state, restored)) }]);
      }
    }
    const trailers: Trailer[] = [[TRAILER.rollback, req.env], ...releases.map((r): Trailer => [TRAILER.release, r.env.name]), ...candidates.map((c): Trailer => [TRAILER.reverts, c.sha])];
    for (const site of new Map(sites.filter((s) => s.current.digest).map((s) => [s.repository, s])).values()) trailers.push([TRAILER.image, `${site.repository}@${site.current.digest}`]);
    const body = candidates.map((c) => `This reverts commit ${c.sha} (${c.subject}).`).join("\n");
    result.commit = await ws.commit(formatCommitMessage(title, trailers, body), [REJECTED_FILE, ...paths]);
    progress(`pushing ${branch}`);
    if (req.push) {
      await ws.push(base);
      result.commit = await ws.head();
      return { ...result, action: "pushed", branch };
    }
    await ws.push(branch, { force: true });
  } catch (e) {
    await ws.resetHard(start).catch(() => undefined);
    throw e;
  } finally {
    if (!req.push) {
      await ws.checkout(base).catch(() => undefined);
    }
  }
  if (!github) throw new BatonError("GITHUB_TOKEN_MISSING", "rollback needs GitHub", { hint: "set GITHUB_TOKEN" });
  const published = await publishPull(github, {
    head: branch, base, title,
    body: `Baton rolls back **${req.env}** by reverting:\n\n${reverted.map((r) => `- ${r.sha.slice(0, 7)} ${r.subject}`).join("\n")}\n\nThe reverted digests are recorded as rejected in \`${REJECTED_FILE}\`; \`baton promote\` refuses them until \`baton unreject\`.\n\n\`\`\`diff\n${result.diff.slice(0, 50_000)}\`\`\`\n`,
    labels: [LABELS.baton, LABELS.rollback, LABELS.env(req.env)],
  }, progress);
  // A rollback is not held by soak or windows; branch protection that requires baton/policy still applies
  // its reviews. (A rerun may find the same commit: the status is simply set again.)
  if (result.commit) await github.setCommitStatus(result.commit, { state: "success", context: POLICY_CONTEXT, description: "rollback: not held by soak or promotion windows" });
  await announce(pipeline, { type: "rollback.opened", environment: req.env, summary: `${title} (#${published.pull.number})`, url: published.pull.url }, progress);
  return { ...result, action: published.action, branch, pull: published.pull };
}

/** Names the later commit that changed the conflicting file, so the user knows what is in the way. */
async function conflictError(ws: GitWorkspace, commit: LogEntry, conflicts: string[], reverting: Set<string>): Promise<BatonError> {
  const file = conflicts[0] ?? "";
  const later = (await ws.log([file], { ref: `${commit.sha}..HEAD` }).catch(() => [])).filter((e) => !reverting.has(e.sha) && e.parents.length <= 1);
  const blocker = later[later.length - 1];
  return new BatonError("ROLLBACK_CONFLICT", `reverting ${commit.sha.slice(0, 7)} "${commit.subject}" conflicts in ${conflicts.join(", ")}${blocker ? `: later commit ${blocker.sha.slice(0, 7)} "${blocker.subject}" (${blocker.author}) changed the same file` : ""}`, {
    file, hint: blocker ? `roll back that commit too (--steps ${reverting.size + 1} or --to ${commit.sha.slice(0, 7)}^), or revert by hand` : "resolve by hand: git revert " + commit.sha.slice(0, 7),
  });
}

/**
 * A change outside the environment's folder (a kustomize base or component) may be rendered by other
 * environments too: reverting it would roll them back as well, which `baton rollback <env>` must not do.
 */
async function refuseSharedChange(ws: GitWorkspace, commit: LogEntry, envPath: string, env: string): Promise<void> {
  const parent = commit.parents[0];
  if (!parent) return;
  const folder = `${envPath.replace(/\/+$/, "")}/`;
  const outside = (await ws.changedFiles(parent, commit.sha)).filter((f) => !f.startsWith(folder) && f !== REJECTED_FILE);
  if (outside.length === 0) return;
  if (outside.includes(PIPELINE_FILE)) {
    throw new BatonError("ROLLBACK_SHARED_CHANGE", `${commit.sha.slice(0, 7)} "${commit.subject}" changed ${env}'s chart version in ${PIPELINE_FILE}, which every environment shares; rollback reverts only changes inside ${envPath}/`, {
      file: PIPELINE_FILE, hint: `set ${env}'s helm version and digest back in ${PIPELINE_FILE} as an ordinary change (or git revert ${commit.sha.slice(0, 7)} by hand)`,
    });
  }
  throw new BatonError("ROLLBACK_SHARED_CHANGE", `${commit.sha.slice(0, 7)} "${commit.subject}" changed ${env}'s digests from outside ${envPath}/ (${outside.slice(0, 3).join(", ")}${outside.length > 3 ? ", …" : ""}); reverting it would change every environment that renders those files`, {
    file: outside[0] ?? envPath,
    hint: `pin the previous digest in ${envPath}/ (for kustomize: an images: entry in its kustomization.yaml) as an ordinary change, or git revert ${commit.sha.slice(0, 7)} by hand if every environment should go back`,
  });
}
