/**
 * Classic branch protection as GitHub applies it to a merge through the API: required status checks on
 * the head commit, a number of approving reviews, and code-owner review with owners read from CODEOWNERS
 * on the base branch. Pure: the stand-in gathers the facts, this decides and words the refusal the way
 * GitHub's 405 does.
 */
import { createRequire } from "node:module";

// `ignore` (gitignore matching, as CODEOWNERS patterns use) is CommonJS with an ESM-style type declaration.
const ignore = createRequire(import.meta.url)("ignore") as () => { add(pattern: string): { ignores(path: string): boolean } };

export interface BranchProtection {
  /** Status contexts that must be `success` on the PR's head commit. */
  requiredContexts?: string[];
  requiredApprovingReviewCount?: number;
  requireCodeOwnerReviews?: boolean;
}

export interface CodeOwnerRule {
  pattern: string;
  owners: string[];
}

/** GitHub reads the first CODEOWNERS found in these places on the base branch. */
export const CODEOWNERS_PATHS = [".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS"];

export function parseCodeowners(text: string): CodeOwnerRule[] {
  const rules: CodeOwnerRule[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/(^|\s)#.*$/, "").trim();
    if (!line) continue;
    const [pattern, ...owners] = line.split(/\s+/);
    if (pattern) rules.push({ pattern, owners });
  }
  return rules;
}

/** The owners of `file`: the last matching rule wins (gitignore-style patterns, as GitHub documents). */
export function ownersOf(rules: CodeOwnerRule[], file: string): string[] {
  let owners: string[] = [];
  for (const rule of rules) if (ignore().add(rule.pattern).ignores(file)) owners = rule.owners;
  return owners;
}

export interface MergeFacts {
  /** Latest state per context on the head commit. */
  statuses: Map<string, string>;
  /** Logins whose latest review is an approval (the PR author's own never counts). */
  approvers: string[];
  changedFiles: string[];
  codeowners: CodeOwnerRule[];
  /** `org/team` → member logins. */
  teams: Map<string, string[]>;
}

function approvedBy(owner: string, approvers: string[], teams: Map<string, string[]>): boolean {
  const name = owner.replace(/^@/, "");
  const members = name.includes("/") ? teams.get(name) ?? [] : [name];
  return approvers.some((a) => members.includes(a));
}

/** Why GitHub refuses the merge, in its words; undefined when protection allows it. */
export function protectionRefusal(protection: BranchProtection | undefined, facts: MergeFacts): string | undefined {
  if (!protection) return undefined;
  const needed = protection.requiredApprovingReviewCount ?? 0;
  if (facts.approvers.length < needed) {
    return `At least ${needed} approving review${needed === 1 ? " is" : "s are"} required by reviewers with write access.`;
  }
  if (protection.requireCodeOwnerReviews) {
    const waiting = new Set<string>();
    for (const file of facts.changedFiles) {
      const owners = ownersOf(facts.codeowners, file);
      if (owners.length > 0 && !owners.some((o) => approvedBy(o, facts.approvers, facts.teams))) for (const o of owners) waiting.add(o);
    }
    if (waiting.size > 0) return `Waiting on code owner review from ${[...waiting].join(", ")}.`;
  }
  for (const context of protection.requiredContexts ?? []) {
    const state = facts.statuses.get(context);
    if (state === undefined || state === "pending") return `Required status check "${context}" is expected.`;
    if (state !== "success") return `Required status check "${context}" is failing.`;
  }
  return undefined;
}

/**
 * A repository ruleset, reduced to the rule Baton depends on: required status checks on the branches it
 * targets (`refs/heads/<name>` or `~DEFAULT_BRANCH`, as GitHub spells ref conditions). Rulesets apply in
 * addition to classic protection; `evaluate` (insights-only) and `disabled` rulesets never block.
 */
export interface Ruleset {
  name: string;
  enforcement: "active" | "evaluate" | "disabled";
  include: string[];
  requiredStatusChecks: string[];
}

/**
 * Why an active ruleset refuses the merge, or undefined. GitHub reports rule violations as one message
 * headed "Repository rule violations found" with the violated rules below; the exact wording of the rule
 * lines is modelled on classic protection's, not verified against GitHub.
 */
export function rulesetRefusal(rulesets: Ruleset[], base: string, defaultBranch: string, statuses: Map<string, string>): string | undefined {
  const targets = (r: Ruleset) => r.include.some((ref) => ref === `refs/heads/${base}` || ref === "~ALL" || (ref === "~DEFAULT_BRANCH" && base === defaultBranch));
  const violations: string[] = [];
  for (const ruleset of rulesets.filter((r) => r.enforcement === "active" && targets(r))) {
    for (const context of ruleset.requiredStatusChecks) {
      const state = statuses.get(context);
      if (state === "success") continue;
      violations.push(state === undefined || state === "pending" ? `Required status check "${context}" is expected.` : `Required status check "${context}" is failing.`);
    }
  }
  return violations.length > 0 ? `Repository rule violations found\n\n${[...new Set(violations)].join("\n")}\n` : undefined;
}
