/**
 * `baton init --resolve`: the digest each tagged image's tag names now, asked of its registry (read-only),
 * and — with --write — those digests pinned with the same edits `baton pin` makes. A tag that cannot be
 * resolved is reported with the registry's error and left for the user; the others are still pinned. A
 * resolved digest that cannot be pinned (PIN_NOT_FOUND: the image is set outside the environment's folder)
 * stops the write: every such pin is reported at once and nothing is written.
 */
import { promises as fs } from "node:fs";
import path from "node:path";
import { BatonError, BatonErrors } from "../errors.js";
import type { RegistryClient } from "../registry/client.js";
import type { FileEdit } from "./edit.js";
import type { InitProposal, TaggedImage } from "./init.js";
import { imageShortName } from "./image-ref.js";
import { loadPipeline, PIPELINE_FILE, type Pipeline } from "./pipeline.js";
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

/**
 * The edits that pin the resolved digests into each environment (the tag stays), as `baton pin` would,
 * planned for every environment before any is written. Every pin that cannot be placed is reported in one
 * BatonErrors, one line per image and environment (file and message from `baton pin`'s check).
 */
export async function planResolvedPins(repoDir: string, resolved: ResolvedImage[]): Promise<FileEdit[]> {
  const pipeline = await loadPipeline(repoDir);
  const edits: FileEdit[] = [];
  const problems: BatonError[] = [];
  for (const env of [...new Set(resolved.map((r) => r.env))]) {
    const pins = resolved.filter((r) => r.env === env && r.digest).map((r) => ({ repository: r.repository, digest: r.digest as string, ...(r.tag ? { tag: r.tag } : {}) }));
    if (pins.length === 0) continue;
    const planned = await planOrProblems(repoDir, pipeline, env, pins);
    if ("edits" in planned) edits.push(...planned.edits);
    // One environment's refusal names what it could not place; each image alone says which of them it is.
    else if (pins.length === 1) problems.push(...planned.problems);
    else for (const pin of pins) { const alone = await planOrProblems(repoDir, pipeline, env, [pin]); if (!("edits" in alone)) problems.push(...alone.problems); }
  }
  if (problems.length > 0) throw new BatonErrors(problems);
  return edits;
}

async function planOrProblems(repoDir: string, pipeline: Pipeline, env: string, pins: Parameters<typeof planPin>[3]): Promise<{ edits: FileEdit[] } | { problems: BatonError[] }> {
  try {
    return { edits: (await planPin(repoDir, pipeline, env, pins)).edits };
  } catch (e) {
    if (e instanceof BatonErrors) return { problems: e.errors };
    if (e instanceof BatonError) return { problems: [e] };
    throw e;
  }
}

/**
 * `baton init --write`: the proposal's moves and baton.yaml, then (with --resolve) the pins. When a pin
 * cannot be placed, the moves and baton.yaml are undone, so the repo is as it was; returns the files pinned.
 */
export async function writeInit(repoDir: string, proposal: Pick<InitProposal, "moves" | "pipelineText">, resolved?: ResolvedImage[]): Promise<string[]> {
  const target = path.join(repoDir, PIPELINE_FILE);
  if (await fs.stat(target).catch(() => undefined)) {
    throw new BatonError("INIT_EXISTS", `${PIPELINE_FILE} already exists`, { file: PIPELINE_FILE, hint: "baton init only starts a pipeline; edit the existing baton.yaml, or run without --write to compare" });
  }
  const done: Array<{ from: string; to: string }> = [];
  const createdDirs: string[] = [];
  try {
    for (const move of proposal.moves) {
      const created = await fs.mkdir(path.dirname(path.join(repoDir, move.to)), { recursive: true });
      if (created) createdDirs.push(created);
      await fs.rename(path.join(repoDir, move.from), path.join(repoDir, move.to));
      done.push(move);
    }
    await fs.writeFile(target, proposal.pipelineText);
    // Planned against the written baton.yaml and moved files, all before the first pin is written.
    const edits = resolved ? await planResolvedPins(repoDir, resolved) : [];
    for (const edit of edits) await fs.writeFile(path.join(repoDir, edit.file), edit.after);
    return [...new Set(edits.map((e) => e.file))].sort();
  } catch (e) {
    await fs.rm(target, { force: true });
    for (const move of done.reverse()) await fs.rename(path.join(repoDir, move.to), path.join(repoDir, move.from));
    // Only folders this run created, emptied again by the moves back.
    for (const dir of createdDirs.reverse()) await fs.rm(dir, { recursive: true, force: true });
    throw e;
  }
}
