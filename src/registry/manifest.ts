/**
 * Manifests as registries serve them: OCI image index / manifest and their Docker v2 equivalents. Parsing
 * is strict about what Baton reads (digests, media types) and tolerant of everything else; anything that is
 * not one of these four is a REGISTRY_BAD_MANIFEST naming the reference.
 */
import { createHash } from "node:crypto";
import { z } from "zod";
import { BatonError } from "../errors.js";

export const MEDIA_TYPES = {
  ociIndex: "application/vnd.oci.image.index.v1+json",
  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  dockerList: "application/vnd.docker.distribution.manifest.list.v2+json",
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
} as const;

/** What Baton asks for: indexes first, so a multi-arch tag resolves to its index digest (the one to pin). */
export const MANIFEST_ACCEPT = [MEDIA_TYPES.ociIndex, MEDIA_TYPES.dockerList, MEDIA_TYPES.ociManifest, MEDIA_TYPES.dockerManifest].join(", ");

const Digest = z.string().regex(/^sha256:[a-f0-9]{64}$/, "must be sha256:<64 hex>");

const Descriptor = z.object({
  mediaType: z.string(),
  digest: Digest,
  size: z.number().int().nonnegative(),
  annotations: z.record(z.string()).optional(),
  platform: z.object({ os: z.string(), architecture: z.string(), variant: z.string().optional() }).passthrough().optional(),
}).passthrough();

const IndexSchema = z.object({
  schemaVersion: z.literal(2),
  mediaType: z.string().optional(),
  manifests: z.array(Descriptor),
  annotations: z.record(z.string()).optional(),
}).passthrough();

const ManifestSchema = z.object({
  schemaVersion: z.literal(2),
  mediaType: z.string().optional(),
  config: Descriptor,
  layers: z.array(Descriptor),
  annotations: z.record(z.string()).optional(),
}).passthrough();

export type Descriptor = z.infer<typeof Descriptor>;
export type ParsedManifest =
  | { kind: "index"; digest: string; mediaType: string; manifests: Descriptor[]; annotations: Record<string, string> }
  | { kind: "image"; digest: string; mediaType: string; config: Descriptor; layers: Descriptor[]; annotations: Record<string, string> };

export function sha256Digest(bytes: Uint8Array): string {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

const INDEX_TYPES = new Set<string>([MEDIA_TYPES.ociIndex, MEDIA_TYPES.dockerList]);
const IMAGE_TYPES = new Set<string>([MEDIA_TYPES.ociManifest, MEDIA_TYPES.dockerManifest]);

/**
 * Parses a manifest body. `reference` names it in errors (`ghcr.io/acme/web:1.2.0`). When `expectedDigest`
 * is given (a manifest fetched by digest), the body must hash to it: a registry or proxy cannot swap content.
 */
export function parseManifest(bytes: Uint8Array, contentType: string | null, reference: string, expectedDigest?: string): ParsedManifest {
  const digest = sha256Digest(bytes);
  const bad = (why: string) => new BatonError("REGISTRY_BAD_MANIFEST", `the manifest of ${reference} ${why}`, { object: reference, hint: "check the image was pushed completely (crane manifest / docker manifest inspect)" });
  if (expectedDigest !== undefined && expectedDigest !== digest) throw bad(`hashes to ${digest}, not the ${expectedDigest} it was fetched by`);
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(bytes).toString("utf8"));
  } catch {
    throw bad("is not JSON");
  }
  const declared = (typeof json === "object" && json !== null && typeof (json as { mediaType?: unknown }).mediaType === "string")
    ? (json as { mediaType: string }).mediaType
    : contentType?.split(";")[0]?.trim() ?? "";
  const looksLikeIndex = INDEX_TYPES.has(declared) || (!IMAGE_TYPES.has(declared) && typeof json === "object" && json !== null && "manifests" in json);
  if (looksLikeIndex) {
    const parsed = IndexSchema.safeParse(json);
    if (!parsed.success) throw bad(`is not a valid image index (${describe(parsed.error)})`);
    return { kind: "index", digest, mediaType: declared || MEDIA_TYPES.ociIndex, manifests: parsed.data.manifests, annotations: parsed.data.annotations ?? {} };
  }
  const parsed = ManifestSchema.safeParse(json);
  if (!parsed.success) throw bad(`is not an image index or image manifest (${describe(parsed.error)}); Docker schema 1 manifests are not supported`);
  return { kind: "image", digest, mediaType: declared || MEDIA_TYPES.ociManifest, config: parsed.data.config, layers: parsed.data.layers, annotations: parsed.data.annotations ?? {} };
}

function describe(error: z.ZodError): string {
  const issue = error.issues[0];
  return issue ? `${issue.path.join(".") || "document"}: ${issue.message}` : "invalid";
}

/** The platform manifest whose config tells an index's provenance: linux/amd64 if present, else the first image. */
export function representativeManifest(index: Extract<ParsedManifest, { kind: "index" }>): Descriptor | undefined {
  const images = index.manifests.filter((m) => IMAGE_TYPES.has(m.mediaType) && m.platform?.os !== "unknown");
  return images.find((m) => m.platform?.os === "linux" && m.platform.architecture === "amd64") ?? images[0];
}

const ImageConfig = z.object({
  created: z.string().optional(),
  config: z.object({ Labels: z.record(z.string()).nullable().optional() }).passthrough().optional(),
}).passthrough();

export interface ImageProvenance {
  created?: string;
  labels: Record<string, string>;
}

/** Creation time and labels from an image config blob; an unreadable config yields nothing rather than failing a watch. */
export function parseImageConfig(bytes: Uint8Array): ImageProvenance {
  try {
    const parsed = ImageConfig.safeParse(JSON.parse(Buffer.from(bytes).toString("utf8")));
    if (!parsed.success) return { labels: {} };
    return { ...(parsed.data.created ? { created: parsed.data.created } : {}), labels: parsed.data.config?.Labels ?? {} };
  } catch {
    return { labels: {} };
  }
}
