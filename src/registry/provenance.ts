/**
 * What a reviewer wants to know about a digest before it enters an environment: the tags pointing at it,
 * when it was built, and from which source revision (the OCI `org.opencontainers.image.revision` and
 * `.source` labels). Read from the registry; a missing piece is left out, never guessed.
 */
import type { RegistryClient } from "./client.js";
import { parseImageConfig, representativeManifest } from "./manifest.js";

export interface Provenance {
  repository: string;
  digest: string;
  /** Tags (of those checked) that point at the digest, newest first. */
  tags: string[];
  created?: string;
  revision?: string;
  source?: string;
  /** A multi-arch index: the platforms it holds. */
  platforms?: string[];
}

/** At most this many candidate tags are resolved to find those pointing at the digest (one HEAD each). */
const MAX_TAGS_CHECKED = 10;

export async function readProvenance(client: RegistryClient, repository: string, digest: string, candidateTags: string[]): Promise<Provenance> {
  const out: Provenance = { repository, digest, tags: [] };
  for (const tag of candidateTags.slice(0, MAX_TAGS_CHECKED)) {
    if ((await client.resolve(repository, tag)) === digest) out.tags.push(tag);
  }
  let manifest = await client.manifest(repository, digest);
  if (manifest.kind === "index") {
    out.platforms = manifest.manifests.filter((m) => m.platform && m.platform.os !== "unknown").map((m) => `${m.platform?.os}/${m.platform?.architecture}${m.platform?.variant ? `/${m.platform.variant}` : ""}`);
    const one = representativeManifest(manifest);
    if (!one) return out;
    manifest = await client.manifest(repository, one.digest);
    if (manifest.kind !== "image") return out;
  }
  const config = parseImageConfig(await client.blob(repository, manifest.config.digest));
  if (config.created && !config.created.startsWith("0001-01-01") && !config.created.startsWith("1970-01-01T00:00:00")) out.created = config.created;
  const revision = config.labels["org.opencontainers.image.revision"] ?? manifest.annotations["org.opencontainers.image.revision"];
  const source = config.labels["org.opencontainers.image.source"] ?? manifest.annotations["org.opencontainers.image.source"];
  if (revision) out.revision = revision;
  if (source) out.source = source;
  return out;
}

function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_[\]<>|]/g, (c) => `\\${c}`);
}

/** One markdown line per image for the pin PR; the revision links to the source when it is an https URL. */
export function provenanceLine(p: Provenance): string {
  const parts = [`\`${p.repository}@${p.digest.slice(0, 19)}…\``];
  parts.push(p.tags.length > 0 ? `tags ${p.tags.map((t) => `\`${t}\``).join(", ")}` : "no checked tag points at it");
  if (p.platforms && p.platforms.length > 0) parts.push(`multi-arch index (${p.platforms.map(escapeMarkdown).join(", ")})`);
  parts.push(p.created ? `created ${escapeMarkdown(p.created)}` : "no creation time");
  if (p.revision) {
    const rev = escapeMarkdown(p.revision.slice(0, 40));
    const link = p.source && /^https:\/\/[^\s()<>]+$/.test(p.source) && /^[0-9a-f]{7,40}$/.test(p.revision) ? `${p.source.replace(/\.git$/, "").replace(/\/$/, "")}/commit/${p.revision}` : undefined;
    parts.push(link ? `revision [${rev.slice(0, 12)}](${link})` : `revision ${rev}`);
  } else parts.push("no org.opencontainers.image.revision label");
  return parts.join("; ");
}
