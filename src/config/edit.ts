/**
 * Promotion as an edit: find where an environment's folder writes each image reference ("pin sites"),
 * and rewrite only those substrings. Everything else in every file stays byte-for-byte the same,
 * so a promotion commit's diff is exactly the digests that move.
 */
import { isMap, isPair, isScalar, isSeq, parseAllDocuments, visit, type Scalar } from "yaml";
import { applySpans, kustomizeEntrySpans, kustomizeImageEntries, type KustomizeImageEntry, type Span } from "./edit-kustomize.js";
import { isValuesDocument, valuesImages, valuesSpans, type DeclaredImage, type ValuesImage } from "./edit-values.js";
import { BatonError } from "../errors.js";
import { canonicalRepository, formatImageRef, parseImageRef, type ImageRef } from "./image-ref.js";
import { KUSTOMIZATION_FILES } from "./kustomize.js";
import { helmReleaseName, helmReleaseValuesNode } from "./helm-release.js";
import { checkYamlBounds } from "./yaml-safe.js";
import { CONTAINER_LIST_KEYS, type Pin, type PinSet } from "./pins.js";

export interface SourceFile {
  /** Repo-relative path. */
  path: string;
  text: string;
}

export interface PinSite {
  file: string;
  line: number;
  /** `inline`: an `image:` value; `kustomize`: an entry of a kustomization's `images:`; `values`: a Helm values image (values file or HelmRelease). */
  kind: "inline" | "kustomize" | "values";
  repository: string;
  current: ImageRef;
  /** inline: offsets of the `image:` scalar (including quotes); kustomize: see `entry`. */
  start: number;
  end: number;
  /** kustomize: where the entry's `digest:` and `newTag:` are, and where missing keys are added. */
  entry?: KustomizeImageEntry;
  /** values: the image's scalars in the values file. */
  values?: ValuesImage;
}

export function lineOf(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

export interface EditOptions {
  /** Helm environments: the chart's default image paths (path → repository), see chartImageDefaults. */
  valuesDefaults?: ReadonlyMap<string, string>;
  /** Helm environments: image paths baton.yaml declares (`helm.images`) for values no convention covers. */
  declaredImages?: readonly DeclaredImage[];
  /** Flux HelmReleases: name → their rendered values' image paths (path → repository), see helmReleaseDefaults. */
  helmReleaseDefaults?: ReadonlyMap<string, ReadonlyMap<string, string>>;
}

const isKustomization = (file: string): boolean => KUSTOMIZATION_FILES.includes(file.slice(file.lastIndexOf("/") + 1));

/** Finds every pin site in the given files. Pure: works on file contents. */
export function findPinSites(files: SourceFile[], options: EditOptions = {}): PinSite[] {
  const sites: PinSite[] = [];
  for (const file of files) {
    // Rendering has checked these files already; the bounds are checked again because `baton pin` edits
    // without rendering, and they cost a linear scan. Duplicate keys are rendering's job (quadratic here).
    checkYamlBounds(file.text, file.path);
    for (const doc of parseAllDocuments(file.text, { uniqueKeys: false })) {
      if (isKustomization(file.path)) {
        // An entry with only `newTag` (Kargo's layout) is a site too: pinning adds its `digest:`.
        for (const entry of kustomizeImageEntries(file.text, doc)) {
          sites.push({ file: file.path, line: lineOf(file.text, entry.at), kind: "kustomize", repository: entry.repository, current: entry.current, start: entry.at, end: entry.at, entry });
        }
        continue;
      }
      // A document that is not a Kubernetes object is Helm values (rendering refuses it anywhere else).
      if (isValuesDocument(doc)) {
        for (const image of valuesImages(doc, options.valuesDefaults, options.declaredImages)) {
          sites.push({ file: file.path, line: lineOf(file.text, image.at), kind: "values", repository: image.repository, current: image.current, start: image.at, end: image.at, values: image });
        }
        continue;
      }
      // A Flux HelmRelease (or an overlay's patch of one): its values' images, by the same conventions.
      const releaseValues = helmReleaseValuesNode(doc);
      if (releaseValues) {
        const defaults = options.helmReleaseDefaults?.get(helmReleaseName(doc) ?? "");
        for (const image of valuesImages(releaseValues, defaults)) {
          sites.push({ file: file.path, line: lineOf(file.text, image.at), kind: "values", repository: image.repository, current: image.current, start: image.at, end: image.at, values: image });
        }
        continue;
      }
      visit(doc, {
        Pair(_key, pair, path) {
          if (!isScalar(pair.key) || pair.key.value !== "image" || !isScalar(pair.value)) return;
          const container = path[path.length - 1];
          const list = path[path.length - 2];
          const owner = path[path.length - 3];
          if (!isMap(container) || !isSeq(list) || !isPair(owner) || !isScalar(owner.key) || !CONTAINER_LIST_KEYS.has(String(owner.key.value))) return;
          const scalar = pair.value as Scalar;
          if (typeof scalar.value !== "string" || !scalar.range) return;
          const parsed = parseImageRef(scalar.value);
          if (!parsed.ok) return; // readPins reports malformed references
          sites.push({ file: file.path, line: lineOf(file.text, scalar.range[0]), kind: "inline", repository: parsed.ref.repository, current: parsed.ref, start: scalar.range[0], end: scalar.range[1] });
        },
      });
    }
  }
  return sites;
}

export interface FileEdit {
  file: string;
  before: string;
  after: string;
}

export interface PinChange {
  repository: string;
  from: Pin;
  to: Pin;
  sites: Array<{ file: string; line: number }>;
}

export interface EditPlan {
  edits: FileEdit[];
  changes: PinChange[];
  /** Repositories already at the wanted digest. */
  unchanged: string[];
  /** Wanted repositories that no file of the target folder pins (reported, never invented). */
  missing: string[];
  noop: boolean;
}

/**
 * The tag a site keeps next to the wanted digest, the same for both spellings: the tag the pin names;
 * else the site's own tag while it had no digest yet or keeps its digest (a first pin of `web:1.4.0`
 * pins that tag's digest and keeps the tag readable); else none, since the old tag no longer describes
 * the new digest (a stale tag next to a digest misleads whoever reads the file).
 */
export function nextTag(current: ImageRef, want: Pin): string | undefined {
  if (want.tag) return want.tag;
  return current.digest === undefined || current.digest === want.digest ? current.tag : undefined;
}

/** The replacement text for an inline site so that it pins `want`. Keeps the quoting of the original scalar. */
function inlineSpan(site: PinSite, text: string, want: Pin): Span {
  const raw = text.slice(site.start, site.end);
  const current = formatImageRef(site.current);
  if (!raw.includes(current)) {
    throw new BatonError("PIN_BAD_REFERENCE", `cannot rewrite image "${current}" in place (escaped or folded YAML scalar)`, {
      file: site.file, field: `line ${site.line}`, hint: "write the image reference as a plain or quoted one-line scalar",
    });
  }
  const next: ImageRef = { repository: site.current.repository };
  const tag = nextTag(site.current, want);
  if (tag) next.tag = tag;
  if (want.digest) next.digest = want.digest;
  return { start: site.start, end: site.end, text: raw.replace(current, formatImageRef(next)) };
}

export function planEdits(files: SourceFile[], want: PinSet, options: EditOptions = {}): EditPlan {
  const sites = findPinSites(files, options);
  const byFile = new Map<string, Span[]>();
  const changes = new Map<string, PinChange>();
  const unchanged = new Set<string>();
  for (const site of sites) {
    const key = canonicalRepository(site.repository);
    const target = want.get(key);
    if (!target) continue;
    const current: Pin = { repository: site.repository, ...(site.current.digest ? { digest: site.current.digest } : {}), ...(site.current.tag ? { tag: site.current.tag } : {}) };
    if (current.digest === target.digest && current.tag === nextTag(site.current, target)) {
      unchanged.add(key);
      continue;
    }
    const text = files.find((f) => f.path === site.file)?.text ?? "";
    const spans = byFile.get(site.file) ?? [];
    const next = { ...(target.digest ? { digest: target.digest } : {}), tag: nextTag(site.current, target) };
    if (site.entry) spans.push(...kustomizeEntrySpans(text, site.entry, site.file, next));
    else if (site.values) spans.push(...valuesSpans(text, site.values, site.file, site.line, next));
    else spans.push(inlineSpan(site, text, target));
    byFile.set(site.file, spans);
    const change = changes.get(key) ?? { repository: site.repository, from: current, to: target, sites: [] };
    change.sites.push({ file: site.file, line: site.line });
    changes.set(key, change);
  }
  const edits: FileEdit[] = [];
  for (const [file, spans] of byFile) {
    const before = files.find((f) => f.path === file)?.text ?? "";
    let after = before;
    after = applySpans(after, spans);
    edits.push({ file, before, after });
  }
  for (const repo of changes.keys()) unchanged.delete(repo);
  const pinned = new Set(sites.map((s) => canonicalRepository(s.repository)));
  const missing = [...want.entries()].filter(([key]) => !pinned.has(key)).map(([, pin]) => pin.repository).sort();
  return {
    edits: edits.sort((a, b) => a.file.localeCompare(b.file)),
    changes: [...changes.values()].sort((a, b) => a.repository.localeCompare(b.repository)),
    unchanged: [...unchanged].map((key) => want.get(key)?.repository ?? key).sort(),
    missing,
    noop: changes.size === 0,
  };
}
