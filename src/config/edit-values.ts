/**
 * Pins in Helm values files, found by the conventions charts follow: a mapping with `repository` and
 * `tag` and/or `digest` (with an optional `registry` in front, as Bitnami charts write it), anywhere in
 * the values and in lists; and an `image:` string holding a whole reference. Edits rewrite only those
 * scalars, so every other byte of the values file stays.
 */
import { isDocument, isMap, isPair, isScalar, isSeq, visit, type Document, type Node, type Pair, type YAMLMap } from "yaml";
import { BatonError } from "../errors.js";
import { formatImageRef, parseImageRef, type ImageRef } from "./image-ref.js";
import { tagScalar, type Span } from "./edit-kustomize.js";

interface ScalarAt {
  start: number;
  end: number;
  value: string;
}

export interface ValuesImage {
  /** Where the image is in the values, e.g. `image`, `proxy.image`, `workers[].image`. */
  path: string;
  repository: string;
  current: ImageRef;
  at: number;
  /** A `repository`/`tag`/`digest` mapping, or one `image:` string. */
  form: "map" | "string";
  image?: ScalarAt;
  tag?: ScalarAt;
  digest?: ScalarAt;
}

function scalarAt(node: unknown): ScalarAt | undefined {
  if (!isScalar(node) || !node.range || (typeof node.value !== "string" && typeof node.value !== "number")) return undefined;
  return { start: node.range[0], end: node.range[1], value: String(node.value) };
}

/** Whether a document is Helm values rather than a Kubernetes object (which has apiVersion and kind). */
export function isValuesDocument(doc: Document.Parsed): boolean {
  return isMap(doc.contents) && !(doc.contents.has("apiVersion") && doc.contents.has("kind"));
}

/** The dotted path of a node from its ancestors: map keys, and `[]` for list items. */
function pathOf(ancestors: readonly unknown[], own?: unknown): string {
  let out = "";
  for (const node of [...ancestors, ...(own === undefined ? [] : [own])]) {
    if (isPair(node) && isScalar(node.key)) out += `${out ? "." : ""}${String(node.key.value)}`;
    else if (isSeq(node)) out += "[]";
  }
  return out;
}

/** A `repository` + `tag`/`digest` image, read as the usual `{{ repository }}:{{ tag }}` template renders it. */
function mapImage(path: string, repository: string, at: number, tag: ScalarAt | undefined, digest: ScalarAt | undefined): ValuesImage | undefined {
  const [tagText, tagDigest] = (tag?.value ?? "").split("@");
  const parsed = parseImageRef(`${repository}${tagText ? `:${tagText}` : ""}`);
  if (!parsed.ok) return undefined;
  const current: ImageRef = { repository };
  if (tagText) current.tag = tagText;
  const pinned = digest?.value || tagDigest;
  if (pinned) current.digest = pinned;
  return { path, repository, current, at, form: "map", ...(tag ? { tag } : {}), ...(digest ? { digest } : {}) };
}

/** A whole reference in one string scalar, e.g. `image: ghcr.io/acme/web:1.4.0`. */
function stringImage(path: string, image: ScalarAt): ValuesImage | undefined {
  const parsed = parseImageRef(image.value);
  return parsed.ok ? { path, repository: parsed.ref.repository, current: parsed.ref, at: image.start, form: "string", image } : undefined;
}

/**
 * Image paths baton.yaml declares for values that follow no convention (`helm.images`): a key holding a
 * whole reference (`path`), or the keys holding one repository's tag and/or digest (`tagPath`, `digestPath`).
 */
export interface DeclaredImage {
  path?: string;
  repository?: string;
  tagPath?: string;
  digestPath?: string;
}

/** `app.workers[0].image` → ["app", "workers", 0, "image"] (the spelling `helm --set` and Kargo's `key` use). */
export function valuesPathSegments(path: string): Array<string | number> {
  return path.split(".").flatMap((part) => {
    const [key, ...indexes] = part.split("[");
    return [key as string, ...indexes.map((i) => Number(i.replace("]", "")))];
  });
}

function declaredImages(doc: Document.Parsed, declared: readonly DeclaredImage[]): ValuesImage[] {
  const at = (path: string | undefined) => (path ? scalarAt(doc.getIn(valuesPathSegments(path), true)) : undefined);
  return declared.flatMap((d) => {
    if (d.path) {
      const image = at(d.path);
      return (image && stringImage(d.path, image)) || [];
    }
    const tag = at(d.tagPath);
    const digest = at(d.digestPath);
    const first = tag ?? digest;
    return (d.repository && first && mapImage(d.tagPath ?? d.digestPath ?? "", d.repository, first.start, tag, digest)) || [];
  });
}

const scalarsOf = (i: ValuesImage): number[] => [i.image, i.tag, i.digest].flatMap((s) => (s ? [s.start] : []));

/**
 * The images of a values document (or of a values mapping inside one, e.g. a HelmRelease's `spec.values`;
 * paths are then relative to it). `defaults` (path → repository, from the chart's own values.yaml)
 * names the repository of a mapping that overrides only `tag`/`digest`, as environment values usually do.
 * `declared` paths (a values document only) come first; a convention reading the same scalars is dropped.
 */
export function valuesImages(root: Document.Parsed | Node, defaults: ReadonlyMap<string, string> = new Map(), declared: readonly DeclaredImage[] = []): ValuesImage[] {
  const out: ValuesImage[] = isDocument(root) ? declaredImages(root, declared) : [];
  const taken = new Set(out.flatMap(scalarsOf));
  const add = (image: ValuesImage | undefined): void => {
    if (image && !scalarsOf(image).some((s) => taken.has(s))) out.push(image);
  };
  visit(root, {
    Map(_key, node: YAMLMap, ancestors) {
      const path = pathOf(ancestors);
      const repo = scalarAt(node.get("repository", true))?.value ?? defaults.get(path);
      const tag = scalarAt(node.get("tag", true));
      const digest = scalarAt(node.get("digest", true));
      if (!repo || (!tag && !digest) || !node.range) return;
      const registry = scalarAt(node.get("registry", true))?.value;
      add(mapImage(path, registry ? `${registry}/${repo}` : repo, node.range[0], tag, digest));
    },
    Pair(_key, pair: Pair, ancestors) {
      if (!isScalar(pair.key) || pair.key.value !== "image") return;
      const image = scalarAt(pair.value);
      if (image && /[:@]/.test(image.value)) add(stringImage(pathOf(ancestors, pair), image));
    },
  });
  return out;
}

function rewrite(text: string, at: ScalarAt, value: string, asPlain: (v: string) => string): Span {
  const raw = text.slice(at.start, at.end);
  const quote = raw.startsWith("\"") || raw.startsWith("'") ? raw[0] : undefined;
  return { start: at.start, end: at.end, text: quote ? `${quote}${value}${quote}` : asPlain(value) };
}

/**
 * The spans that make a values image pin `want.digest` with `want.tag`. A `digest:` value is set where the
 * chart has one; otherwise the pin goes into `tag:` as `<tag>@sha256:…`, which the usual
 * `{{ repository }}:{{ tag }}` template renders as a pinned reference (the tag part is then kept, since
 * the template needs one).
 */
export function valuesSpans(text: string, site: ValuesImage, file: string, line: number, want: { digest?: string; tag: string | undefined }): Span[] {
  const digest = want.digest ?? "";
  if (site.form === "string" && site.image) {
    const next: ImageRef = { repository: site.current.repository, ...(want.tag ? { tag: want.tag } : {}), ...(digest ? { digest } : {}) };
    return [rewrite(text, site.image, formatImageRef(next), (v) => v)];
  }
  const spans: Span[] = [];
  if (site.digest) {
    // An empty digest is written `""`: a bare `digest:` would be null, not the empty string the chart tests.
    if (digest !== (site.current.digest ?? "")) spans.push(rewrite(text, site.digest, digest, (v) => v || "\"\""));
    if (want.tag && site.tag && want.tag !== site.current.tag) spans.push(rewrite(text, site.tag, want.tag, tagScalar));
    return spans;
  }
  const tag = want.tag ?? site.current.tag;
  // A tag-only pin (an environment with requireDigests: false) is the tag alone: `2.1`, never `2.1@`.
  if (!digest && site.tag && tag) return tag === site.tag.value ? [] : [rewrite(text, site.tag, tag, tagScalar)];
  if (!site.tag || !tag) {
    throw new BatonError("PIN_BAD_REFERENCE", `cannot pin ${site.repository} in these values: no tag to carry the digest and no digest value`, {
      file, field: `line ${line}`, hint: "add `digest: \"\"` next to `repository:` if the chart reads it, or pin with a tag: <repo>:<tag>@sha256:…",
    });
  }
  return [rewrite(text, site.tag, `${tag}@${digest}`, (v) => JSON.stringify(v))];
}


/** path → repository of every image a chart's own values.yaml declares (its defaults). */
export function chartImageDefaults(doc: Document.Parsed): Map<string, string> {
  return new Map(valuesImages(doc).filter((i) => i.form === "map").map((i) => [i.path, i.repository]));
}
