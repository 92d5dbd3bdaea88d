/**
 * `baton merge <pr|env>`: merge a promotion or rollback PR through GitHub's API, so branch protection
 * (required reviews, code owners, required checks) decides exactly as for the merge button. Baton adds
 * one rule of its own first: the PR's head must carry `baton/policy` = success. The merge method is the
 * one asked for, else the first the repository allows (merge, squash, rebase); history and rollback work
 * the same for all three. The promoter's `autoMerge` uses this same path.
 */
import { BatonError } from "../errors.js";
import type { GitHubApi, MergeMethod, PullRequest } from "../github/api.js";
import { LABELS } from "./naming.js";
import { POLICY_CONTEXT } from "./promote.js";

export interface MergeOutcome {
  pull: number;
  title: string;
  env?: string;
  kind: "promotion" | "rollback";
  method: MergeMethod;
  /** The commit the merge left on the base branch (for a rebase merge: the last one). */
  sha: string;
}

/** A PR number (`12`, `#12`) or an environment name with exactly one open Baton promotion or rollback PR. */
export async function findMergeTarget(github: GitHubApi, target: string): Promise<PullRequest> {
  const number = /^#?(\d+)$/.exec(target)?.[1];
  if (number) return github.getPull(Number(number));
  const candidates = (await github.listOpenPulls(LABELS.env(target))).filter((p) => p.labels.includes(LABELS.promotion) || p.labels.includes(LABELS.rollback));
  const [only, ...more] = candidates;
  if (!only) throw new BatonError("MERGE_NOTHING", `no open promotion or rollback PR into ${target}`, { hint: `baton promote <from> ${target} or baton rollback ${target} opens one; baton status lists open PRs` });
  if (more.length > 0) {
    throw new BatonError("MERGE_AMBIGUOUS", `several open Baton PRs into ${target}: ${candidates.map((p) => `#${p.number} ${p.title}`).join(", ")}`, { hint: `name one: baton merge ${only.number}` });
  }
  return github.getPull(only.number);
}

export async function mergeBatonPull(github: GitHubApi, pull: PullRequest, options: { method?: MergeMethod } = {}): Promise<MergeOutcome> {
  const kind = pull.labels.includes(LABELS.rollback) ? "rollback" : pull.labels.includes(LABELS.promotion) ? "promotion" : undefined;
  if (!kind) throw new BatonError("MERGE_NOT_BATON", `#${pull.number} "${pull.title}" is not a Baton promotion or rollback PR`, { hint: "merge other PRs on GitHub" });
  if (pull.state !== "open") throw new BatonError("MERGE_NOTHING", `#${pull.number} is ${pull.merged ? "already merged" : "closed"}`, { hint: "baton status lists open PRs" });
  if (!pull.headSha) throw new BatonError("MERGE_NOTHING", `#${pull.number}: its head branch ${pull.head} is gone`, { hint: `rerun the command that opened it (baton promote / baton rollback) to push the branch again` });
  const policy = await github.commitStatus(pull.headSha, POLICY_CONTEXT);
  if (policy?.state !== "success") {
    throw new BatonError("MERGE_POLICY_PENDING", `#${pull.number}: ${POLICY_CONTEXT} is ${policy ? `${policy.state}: ${policy.description}` : "not reported yet"}`, {
      hint: policy?.state === "failure" ? "the promotion cannot merge as it is; see the status description" : "wait for soak/window (baton policy re-evaluates), then rerun",
    });
  }
  const allowed = await github.mergeMethods();
  const method = options.method ?? allowed[0];
  if (!method || !allowed.includes(method)) {
    throw new BatonError("GITHUB_MERGE_REFUSED", `the repository does not allow ${method ? `${method} merges` : "any merge method"}${allowed.length ? ` (allowed: ${allowed.join(", ")})` : ""}`, { hint: allowed[0] ? `use --method ${allowed[0]}` : "enable a merge method in the repository settings" });
  }
  // `sha`: merge only the commit whose policy was just checked.
  const { sha } = await github.mergePull(pull.number, { method, sha: pull.headSha });
  const env = pull.labels.find((l) => l.startsWith("env:"))?.slice(4);
  return { pull: pull.number, title: pull.title, kind, method, sha, ...(env ? { env } : {}) };
}
