/**
 * Container image references: `[registry/]path[:tag][@sha256:<64 hex>]`.
 * A pin is a reference with a digest; the repository (registry + path) is the image's identity.
 */
export interface ImageRef {
  /** Registry and path, e.g. `ghcr.io/acme/web`. The identity of an image across environments. */
  repository: string;
  tag?: string;
  /** `sha256:<hex>` (or another algorithm), exactly as written. */
  digest?: string;
}

const COMPONENT = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
const DOMAIN = "(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\\.(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?))*(?::[0-9]+)?";
const REPOSITORY_RE = new RegExp(`^(?:${DOMAIN}/)?${COMPONENT}(?:/${COMPONENT})*$`);
const TAG_RE = /^[\w][\w.-]{0,127}$/;
const DIGEST_RE = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$/;
const SHA256_RE = /^sha256:[a-f0-9]{64}$/;

export type ImageRefProblem = "malformed" | "bad-digest";

export type ParseResult = { ok: true; ref: ImageRef } | { ok: false; problem: ImageRefProblem; reason: string };

export function parseImageRef(text: string): ParseResult {
  const trimmed = text.trim();
  if (trimmed === "" || /\s/.test(trimmed)) return { ok: false, problem: "malformed", reason: "empty or contains whitespace" };
  const at = trimmed.indexOf("@");
  const namePart = at === -1 ? trimmed : trimmed.slice(0, at);
  const digest = at === -1 ? undefined : trimmed.slice(at + 1);
  if (digest !== undefined && !isValidDigest(digest)) {
    return { ok: false, problem: "bad-digest", reason: `digest "${digest}" is not sha256:<64 lowercase hex>` };
  }
  const lastSlash = namePart.lastIndexOf("/");
  const lastColon = namePart.lastIndexOf(":");
  const hasTag = lastColon > lastSlash;
  const repository = hasTag ? namePart.slice(0, lastColon) : namePart;
  const tag = hasTag ? namePart.slice(lastColon + 1) : undefined;
  if (!REPOSITORY_RE.test(repository)) return { ok: false, problem: "malformed", reason: `"${repository}" is not a valid repository name` };
  if (tag !== undefined && !TAG_RE.test(tag)) return { ok: false, problem: "malformed", reason: `"${tag}" is not a valid tag` };
  const ref: ImageRef = { repository };
  if (tag !== undefined) ref.tag = tag;
  if (digest !== undefined) ref.digest = digest;
  return { ok: true, ref };
}

/** sha256 is the only algorithm registries use for image digests; anything else is treated as a typo. */
export function isValidDigest(digest: string): boolean {
  return DIGEST_RE.test(digest) && SHA256_RE.test(digest);
}

export function formatImageRef(ref: ImageRef): string {
  return `${ref.repository}${ref.tag ? `:${ref.tag}` : ""}${ref.digest ? `@${ref.digest}` : ""}`;
}

/** `sha256:abcdef1…` → `abcdef1` (7 hex, like git's short hashes). */
export function shortDigest(digest: string | undefined): string {
  if (!digest) return "-";
  const hex = digest.includes(":") ? digest.slice(digest.indexOf(":") + 1) : digest;
  return hex.slice(0, 7);
}

/** The last path component, used in PR titles and branch names: `ghcr.io/acme/web` → `web`. */
export function imageShortName(repository: string): string {
  return repository.slice(repository.lastIndexOf("/") + 1);
}

/**
 * The identity of an image repository, however it is spelled: Docker Hub's implicit registry and
 * `library/` namespace are made explicit (`nginx`, `library/nginx`, `docker.io/library/nginx` and
 * `index.docker.io/library/nginx` are one image), as container runtimes resolve them.
 */
export function canonicalRepository(repository: string): string {
  const slash = repository.indexOf("/");
  const first = slash === -1 ? "" : repository.slice(0, slash);
  const hasRegistry = first.includes(".") || first.includes(":") || first === "localhost";
  if (hasRegistry) {
    if (first !== "docker.io" && first !== "index.docker.io" && first !== "registry-1.docker.io") return repository;
    const path = repository.slice(slash + 1);
    return `docker.io/${path.includes("/") ? path : `library/${path}`}`;
  }
  return `docker.io/${slash === -1 ? `library/${repository}` : repository}`;
}
