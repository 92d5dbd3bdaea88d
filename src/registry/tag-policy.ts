/**
 * Which tag of a repository is "the newest build" for an environment: the highest version within a semver
 * range (`semver: ">=1.2.0 <2"`, evaluated by the `semver` package, prereleases only when the range names
 * one), or the highest match of a regular expression ordered by its first capture group (e.g. a build number).
 */
import semver from "semver";
import { z } from "zod";

export const TagPolicySchema = z.union([
  z.object({
    semver: z.string().min(1).refine((r) => semver.validRange(r) !== null, "is not a semver range (e.g. \">=1.2.0 <2\", \"^1\", \"*\")"),
  }).strict(),
  z.object({
    pattern: z.string().min(1).max(256).refine((p) => { try { new RegExp(p); return true; } catch { return false; } }, "is not a valid regular expression"),
    /** How matches are ordered: by the first capture group (or the whole tag) as a number, or as text. */
    order: z.enum(["numerical", "alphabetical"]).default("alphabetical"),
  }).strict(),
]);

export type TagPolicy = z.infer<typeof TagPolicySchema>;

export function describePolicy(policy: TagPolicy): string {
  return "semver" in policy ? `semver ${policy.semver}` : `pattern /${policy.pattern}/ (${policy.order})`;
}

/** The tags the policy accepts, newest first. */
export function matchingTags(tags: readonly string[], policy: TagPolicy): string[] {
  if ("semver" in policy) {
    return tags.filter((t) => semver.valid(t) !== null && semver.satisfies(t, policy.semver)).sort((a, b) => semver.rcompare(a, b) || a.localeCompare(b));
  }
  const re = new RegExp(policy.pattern);
  const keyed: Array<{ tag: string; key: string }> = [];
  for (const tag of tags) {
    const m = re.exec(tag);
    if (m) keyed.push({ tag, key: m[1] ?? m[0] });
  }
  if (policy.order === "numerical") {
    return keyed.filter((k) => /^\d+(\.\d+)?$/.test(k.key)).sort((a, b) => Number(b.key) - Number(a.key) || b.tag.localeCompare(a.tag)).map((k) => k.tag);
  }
  return keyed.sort((a, b) => (a.key < b.key ? 1 : a.key > b.key ? -1 : b.tag.localeCompare(a.tag))).map((k) => k.tag);
}

/** The newest tag the policy accepts, or undefined when none matches. */
export function newestTag(tags: readonly string[], policy: TagPolicy): string | undefined {
  return matchingTags(tags, policy)[0];
}
