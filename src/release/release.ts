/**
 * `environments/<env>/release.yaml`: where a progressive release stands, next to the pins it describes.
 * Written only by Baton commands (promote, confirm, abort, the promoter), read by the renderer, never
 * applied as an object. The candidate is whatever the folder pins now; `stable` is what ran before.
 */
import { promises as fs } from "node:fs";
import path from "node:path";
import { z } from "zod";
import { stringify } from "yaml";
import { BatonError, BatonErrors } from "../errors.js";
import { readLimited, resolveInRepo } from "../config/files.js";
import { DEFAULT_LIMITS, type Limits } from "../config/limits.js";
import { formatFieldPath, PIPELINE_API_VERSION, type PipelineEnvironment } from "../config/pipeline.js";
import { parseYamlDocs } from "../config/yaml-safe.js";

export const RELEASE_FILE = "release.yaml";
export const RELEASE_KIND = "Release";
export const SLOTS = ["blue", "green"] as const;
export type Slot = (typeof SLOTS)[number];

export const otherSlot = (slot: Slot): Slot => (slot === "blue" ? "green" : "blue");

const images = z.record(
  z.string().min(1),
  z.string().regex(/^sha256:[0-9a-f]{64}$/, "must be a digest: sha256:<64 lowercase hex>"),
);

export const ReleaseSchema = z
  .object({
    apiVersion: z.literal(PIPELINE_API_VERSION),
    kind: z.literal(RELEASE_KIND),
    /** The slot that carries traffic and the digests it runs (repository → digest). */
    stable: z.object({ slot: z.enum(SLOTS), images }).strict(),
    /** Index into the strategy's steps while a candidate is out; absent = steady state. */
    step: z.number().int().min(0).optional(),
    /** After a release completed: the old slot keeps these digests at full size until it is retired. */
    previous: z.object({ images }).strict().optional(),
    /** How the last release ended (status and notifications read it). */
    outcome: z.enum(["Confirmed", "Aborted"]).optional(),
  })
  .strict();

export type Release = z.infer<typeof ReleaseSchema>;

export function releaseFilePath(env: PipelineEnvironment): string {
  return path.posix.join(path.posix.normalize(env.path), RELEASE_FILE);
}

/** Validates a parsed release.yaml; every problem names its field. */
export function parseRelease(value: unknown, file: string): Release {
  const result = ReleaseSchema.safeParse(value);
  if (result.success) return result.data;
  throw new BatonErrors(result.error.issues.map((issue) => {
    const field = formatFieldPath(issue.path);
    return new BatonError("RELEASE_SCHEMA", `${field || "document"} ${issue.message}`, {
      file, field, hint: "release.yaml is written by baton promote/confirm/abort; restore it from git log, or delete it to mean: steady, stable = the pins",
    });
  }));
}

/** Reads the environment's release.yaml; undefined when there is none (steady state: stable = the pins). */
export async function loadRelease(repoDir: string, env: PipelineEnvironment, limits: Limits = DEFAULT_LIMITS): Promise<Release | undefined> {
  const file = releaseFilePath(env);
  const full = resolveInRepo(repoDir, file, { file, field: "path" });
  try {
    await fs.access(full);
  } catch {
    return undefined;
  }
  const docs = parseYamlDocs(await readLimited(repoDir, full, limits), file, limits);
  if (docs.length !== 1) {
    throw new BatonError("RELEASE_SCHEMA", `expected exactly one YAML document, found ${docs.length}`, { file, hint: "keep one Release document in release.yaml" });
  }
  return parseRelease(docs[0]?.value, file);
}

/** release.yaml as Baton writes it: stable key order, a header that says who writes it. */
export function formatRelease(release: Release): string {
  const ordered: Record<string, unknown> = { apiVersion: release.apiVersion, kind: release.kind, stable: { slot: release.stable.slot, images: sortKeys(release.stable.images) } };
  if (release.step !== undefined) ordered.step = release.step;
  if (release.previous) ordered.previous = { images: sortKeys(release.previous.images) };
  if (release.outcome) ordered.outcome = release.outcome;
  return `# Written by baton (promote, confirm, abort, the promoter). Read by the renderer, never applied.\n${stringify(ordered, { lineWidth: 0 })}`;
}

function sortKeys(record: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => a.localeCompare(b)));
}
