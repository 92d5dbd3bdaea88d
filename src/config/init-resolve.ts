/**
 * `baton init --resolve`: the digest each tagged image's tag names now, asked of its registry (read-only),
 * and — with --write — those digests pinned with the same edits `baton pin` makes. A tag that cannot be
 * resolved is reported with the registry's error and left for the user; the others are still pinned.
 */
import { promises as fs } from "node:fs";
import path from "node:path";
import { BatonError } from "../errors.js";
import type { RegistryClient } from "../registry/client.js";
import type { TaggedImage } from "./init.js";
import { imageShortName } from "./image-ref.js";
import { loadPipeline } from "./pipeline.js";
import { planPin } from "./repo.js";

export interface ResolvedImage extends TaggedImage {
  /** The digest the tag names in the registry; absent when it could not be resolved (see `error`). */
  digest?: string;
  error?: string;
}

/** Resolves every tagged image once per reference (the same tag in two environments is one request). */
export async function resolveTagged(tagged: TaggedImage[], registry: RegistryClient): Promise<ResolvedImage[]> {
  const lookups = new Map<string, Promise<{ digest?: string; error?: string }>>();
  const lookup = (t: TaggedImage) => {
    const key = `${t.repository}:${t.tag ?? "latest"}`;
    if (!lookups.has(key)) {
      lookups.set(key, registry.resolve(t.repository, t.tag ?? "latest").then((digest) => ({ digest }), (e: unknown) => {
        if (e instanceof BatonError) return { error: e.oneLine() };
        throw e;
      }));
    }
    return lookups.get(key) as Promise<{ digest?: string; error?: string }>;
  };
  return Promise.all(tagged.map(async (t) => ({ ...t, ...await lookup(t) })));
}

/** The `baton pin` a resolved image amounts to. */
export function pinCommand(r: ResolvedImage): string {
  return `baton pin ${r.env} ${imageShortName(r.repository)}=${r.repository}${r.tag ? `:${r.tag}` : ""}@${r.digest ?? "sha256:<unresolved>"}`;
}

/** Pins the resolved digests into each environment (the tag stays), as `baton pin` would; returns the files written. */
export async function pinResolved(repoDir: string, resolved: ResolvedImage[]): Promise<string[]> {
  const pipeline = await loadPipeline(repoDir);
  const written = new Set<string>();
  for (const env of [...new Set(resolved.map((r) => r.env))]) {
    const pins = resolved.filter((r) => r.env === env && r.digest).map((r) => ({ repository: r.repository, digest: r.digest as string, ...(r.tag ? { tag: r.tag } : {}) }));
    if (pins.length === 0) continue;
    const plan = await planPin(repoDir, pipeline, env, pins);
    for (const edit of plan.edits) {
      await fs.writeFile(path.join(repoDir, edit.file), edit.after);
      written.add(edit.file);
    }
  }
  return [...written].sort();
}
