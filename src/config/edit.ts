/**
 * Promotion as an edit: find where an environment's folder writes each image reference ("pin sites"),
 * and rewrite only those substrings. Everything else in every file stays byte-for-byte the same,
 * so a promotion commit's diff is exactly the digests that move.
 */
import { isMap, isPair, isScalar, isSeq, parseAllDocuments, visit, type Scalar } from "yaml";
import { BatonError } from "../errors.js";
import { canonicalRepository, formatImageRef, parseImageRef, type ImageRef } from "./image-ref.js";
import { KUSTOMIZATION_FILES } from "./kustomize.js";
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
  /** `inline`: an `image:` value; `kustomize`: the `digest:` of a kustomization `images:` entry. */
  kind: "inline" | "kustomize";
  repository: string;
  current: ImageRef;
  /** Source offsets of the scalar (including quotes). */
  start: number;
  end: number;
  /** Offsets of a kustomize entry's `newTag:` scalar, updated together with the digest. */
  tagRange?: { start: number; end: number; value: string };
}

function lineOf(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

const isKustomization = (file: string): boolean => KUSTOMIZATION_FILES.includes(file.slice(file.lastIndexOf("/") + 1));

/** Finds every pin site in the given files. Pure: works on file contents. */
export function findPinSites(files: SourceFile[]): PinSite[] {
  const sites: PinSite[] = [];
  for (const file of files) {
    // Rendering has checked these files already; the bounds are checked again because `baton pin` edits
    // without rendering, and they cost a linear scan. Duplicate keys are rendering's job (quadratic here).
    checkYamlBounds(file.text, file.path);
    for (const doc of parseAllDocuments(file.text, { uniqueKeys: false })) {
      if (isKustomization(file.path)) {
        const images = isMap(doc.contents) ? doc.contents.get("images", true) : undefined;
        if (!isSeq(images)) continue;
        for (const entry of images.items) {
          if (!isMap(entry)) continue;
          const name = entry.get("newName") ?? entry.get("name");
          const digest = entry.get("digest", true);
          if (typeof name !== "string" || !isScalar(digest) || typeof digest.value !== "string" || !digest.range) continue;
          const current: ImageRef = { repository: name, digest: digest.value };
          const site: PinSite = { file: file.path, line: lineOf(file.text, digest.range[0]), kind: "kustomize", repository: name, current, start: digest.range[0], end: digest.range[1] };
          const tag = entry.get("newTag", true);
          if (isScalar(tag) && tag.range && tag.value !== null) {
            current.tag = String(tag.value);
            site.tagRange = { start: tag.range[0], end: tag.range[1], value: String(tag.value) };
          }
          sites.push(site);
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

/** The replacement text for one site so that it pins `want`. Keeps the quoting of the original scalar. */
function replacementFor(site: PinSite, raw: string, want: Pin): string {
  if (site.kind === "kustomize") return raw.replace(site.current.digest ?? "", want.digest ?? "");
  const current = formatImageRef(site.current);
  if (!raw.includes(current)) {
    throw new BatonError("PIN_BAD_REFERENCE", `cannot rewrite image "${current}" in place (escaped or folded YAML scalar)`, {
      file: site.file, field: `line ${site.line}`, hint: "write the image reference as a plain or quoted one-line scalar",
    });
  }
  const next: ImageRef = { repository: site.current.repository };
  const tag = want.tag ?? undefined;
  if (tag) next.tag = tag;
  if (want.digest) next.digest = want.digest;
  return raw.replace(current, formatImageRef(next));
}

/**
 * Rewrites the sites so every repository in `want` pins the wanted digest (and tag, when the source has one).
 * Pure: returns the new file contents; touches nothing else.
 */
export function planEdits(files: SourceFile[], want: PinSet): EditPlan {
  const sites = findPinSites(files);
  const byFile = new Map<string, Array<{ site: PinSite; text: string; start: number; end: number }>>();
  const changes = new Map<string, PinChange>();
  const unchanged = new Set<string>();
  for (const site of sites) {
    const key = canonicalRepository(site.repository);
    const target = want.get(key);
    if (!target) continue;
    const current: Pin = { repository: site.repository, ...(site.current.digest ? { digest: site.current.digest } : {}), ...(site.current.tag ? { tag: site.current.tag } : {}) };
    const sameDigest = current.digest === target.digest;
    const sameTag = target.tag === undefined || current.tag === target.tag || site.kind === "kustomize" && !site.tagRange;
    if (sameDigest && sameTag) {
      unchanged.add(key);
      continue;
    }
    const text = files.find((f) => f.path === site.file)?.text ?? "";
    const spans = byFile.get(site.file) ?? [];
    spans.push({ site, start: site.start, end: site.end, text: replacementFor(site, text.slice(site.start, site.end), target) });
    if (site.kind === "kustomize" && site.tagRange && target.tag && target.tag !== site.tagRange.value) {
      const rawTag = text.slice(site.tagRange.start, site.tagRange.end);
      spans.push({ site, start: site.tagRange.start, end: site.tagRange.end, text: rawTag.replace(site.tagRange.value, target.tag) });
    }
    byFile.set(site.file, spans);
    const change = changes.get(key) ?? { repository: site.repository, from: current, to: target, sites: [] };
    change.sites.push({ file: site.file, line: site.line });
    changes.set(key, change);
  }
  const edits: FileEdit[] = [];
  for (const [file, spans] of byFile) {
    const before = files.find((f) => f.path === file)?.text ?? "";
    let after = before;
    for (const span of spans.sort((a, b) => b.start - a.start)) after = after.slice(0, span.start) + span.text + after.slice(span.end);
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
