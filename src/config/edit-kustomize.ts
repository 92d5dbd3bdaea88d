/**
 * Byte-preserving edits of a kustomization's `images:` list: set or add an entry's `digest:` and
 * `newTag:`, drop a tag that no longer describes the digest, and append an entry for an image the
 * environment runs from a shared base. Every other byte of the file stays as it was.
 */
import { isMap, isPair, isScalar, isSeq, parseDocument, type Document, type Pair, type YAMLMap } from "yaml";
import { BatonError } from "../errors.js";
import type { ImageRef } from "./image-ref.js";

/** Replace `[start, end)` with `text` (an insertion when start === end). */
export interface Span {
  start: number;
  end: number;
  text: string;
}

/** Applies non-overlapping spans, last first so earlier offsets stay valid. */
export function applySpans(text: string, spans: Span[]): string {
  let out = text;
  for (const span of [...spans].sort((a, b) => b.start - a.start)) out = out.slice(0, span.start) + span.text + out.slice(span.end);
  return out;
}

interface ScalarAt {
  keyStart: number;
  start: number;
  end: number;
  value: string;
}

export interface KustomizeImageEntry {
  /** `newName`, else `name`: the repository the rendered objects run. */
  repository: string;
  current: ImageRef;
  /** Offset of the entry, for line numbers. */
  at: number;
  flow: boolean;
  digest?: ScalarAt;
  tag?: ScalarAt;
  /** Where a missing key is added, and what goes before it (`\n` + the entry's indentation, or `, `). */
  insertAt: number;
  separator: string;
  /** The entry's pairs in order, for removing one cleanly. */
  pairs: ScalarAt[];
}

function scalarPair(pair: Pair): ScalarAt | undefined {
  if (!isScalar(pair.key) || !pair.key.range || !isScalar(pair.value) || !pair.value.range || pair.value.value === null) return undefined;
  return { keyStart: pair.key.range[0], start: pair.value.range[0], end: pair.value.range[1], value: String(pair.value.value) };
}

function columnOf(text: string, offset: number): number {
  return offset - (text.lastIndexOf("\n", offset - 1) + 1);
}

function lineEnd(text: string, offset: number): number {
  const nl = text.indexOf("\n", offset);
  return nl === -1 ? text.length : nl;
}

/** The `images:` entries of a kustomization document that can be edited in place. Pure. */
export function kustomizeImageEntries(text: string, doc: Document.Parsed): KustomizeImageEntry[] {
  const images = isMap(doc.contents) ? doc.contents.get("images", true) : undefined;
  if (!isSeq(images)) return [];
  const out: KustomizeImageEntry[] = [];
  for (const item of images.items) {
    if (!isMap(item) || !item.range) continue;
    const map = item as YAMLMap;
    const pairs = map.items.filter(isPair).map(scalarPair);
    if (pairs.some((p) => p === undefined) || pairs.length === 0) continue; // a key we cannot place safely
    const scalars = pairs as ScalarAt[];
    const byKey = new Map(map.items.filter(isPair).map((p, i) => [isScalar(p.key) ? String(p.key.value) : "", scalars[i] as ScalarAt]));
    const repository = byKey.get("newName")?.value ?? byKey.get("name")?.value;
    if (!repository) continue;
    const digest = byKey.get("digest");
    const tag = byKey.get("newTag");
    const current: ImageRef = { repository };
    if (digest) current.digest = digest.value;
    if (tag) current.tag = tag.value;
    const last = scalars[scalars.length - 1] as ScalarAt;
    const flow = Boolean(map.flow);
    const first = scalars[0] as ScalarAt;
    out.push({
      repository, current, at: item.range[0], flow, pairs: scalars,
      ...(digest ? { digest } : {}), ...(tag ? { tag } : {}),
      insertAt: flow ? last.end : lineEnd(text, last.end),
      separator: flow ? ", " : `\n${" ".repeat(columnOf(text, first.keyStart))}`,
    });
  }
  return out;
}

/** A tag as a YAML scalar that stays a string (`1.10` would be read as the number 1.1). */
export function tagScalar(tag: string): string {
  return /^[-+.\deE_]+$|^(true|false|yes|no|on|off|y|n|null|~)$/i.test(tag) ? JSON.stringify(tag) : tag;
}

function replaceValue(text: string, at: ScalarAt, value: string, asScalar: (v: string) => string): Span {
  const raw = text.slice(at.start, at.end);
  const quoted = raw.startsWith("\"") || raw.startsWith("'");
  return { start: at.start, end: at.end, text: quoted ? raw.replace(at.value, value) : asScalar(value) };
}

/** Removes one `key: value` of the entry, with its line (block) or its comma (flow). */
function removePair(text: string, entry: KustomizeImageEntry, at: ScalarAt, file: string): Span {
  const index = entry.pairs.indexOf(at);
  if (entry.flow) {
    const before = entry.pairs[index - 1];
    const after = entry.pairs[index + 1];
    if (before) return { start: before.end, end: at.end, text: "" };
    if (after) return { start: at.keyStart, end: after.keyStart, text: "" };
  } else {
    const start = text.lastIndexOf("\n", at.keyStart - 1) + 1;
    if (/^\s*$/.test(text.slice(start, at.keyStart))) {
      const end = lineEnd(text, at.end);
      return end < text.length ? { start, end: end + 1, text: "" } : { start: Math.max(0, start - 1), end, text: "" };
    }
  }
  throw new BatonError("PIN_BAD_REFERENCE", "cannot remove the stale newTag of this images: entry in place", {
    file, field: "images", hint: "write `name:` as the entry's first key (one key per line), or remove newTag by hand",
  });
}

/**
 * The spans that make one entry pin `digest` with `tag` (undefined: no tag): the existing `digest:` and
 * `newTag:` values are rewritten, missing ones added after the entry's last key, a tag that must go removed.
 */
export function kustomizeEntrySpans(text: string, entry: KustomizeImageEntry, file: string, want: { digest?: string; tag: string | undefined }): Span[] {
  const spans: Span[] = [];
  const added: string[] = [];
  if (want.tag !== entry.current.tag) {
    if (want.tag === undefined && entry.tag) spans.push(removePair(text, entry, entry.tag, file));
    else if (want.tag !== undefined && entry.tag) spans.push(replaceValue(text, entry.tag, want.tag, tagScalar));
    else if (want.tag !== undefined) added.push(`newTag: ${tagScalar(want.tag)}`);
  }
  if (want.digest && want.digest !== entry.current.digest) {
    if (entry.digest) spans.push(replaceValue(text, entry.digest, want.digest, (v) => v));
    else added.push(`digest: ${want.digest}`);
  }
  if (added.length > 0) spans.push({ start: entry.insertAt, end: entry.insertAt, text: added.map((a) => entry.separator + a).join("") });
  return spans;
}

/** A new `images:` entry: the name as the rendered objects spell it, the tag kept readable, the digest. */
export interface NewImageEntry {
  name: string;
  tag?: string;
  digest: string;
}

/**
 * Appends entries to a kustomization's `images:` (adding the list when there is none), in the list's own
 * style. For an image set only in a shared base: the environment's own kustomization then owns its pin.
 */
export function addImageEntries(text: string, file: string, entries: NewImageEntry[]): string {
  const doc = parseDocument(text, { uniqueKeys: false });
  const root = doc.contents;
  if (!isMap(root)) throw new BatonError("KUSTOMIZE_UNSUPPORTED", "the kustomization is not a mapping", { file, hint: "fix the kustomization" });
  const images = root.get("images", true);
  const fields = (e: NewImageEntry) => [`name: ${e.name}`, ...(e.tag ? [`newTag: ${tagScalar(e.tag)}`] : []), `digest: ${e.digest}`];
  if (images === undefined) {
    const block = entries.map((e) => fields(e).map((f, i) => `${i === 0 ? "  - " : "    "}${f}\n`).join("")).join("");
    return `${text}${text === "" || text.endsWith("\n") ? "" : "\n"}images:\n${block}`;
  }
  const last = isSeq(images) ? images.items[images.items.length - 1] : undefined;
  const lastRange = isMap(last) || isScalar(last) ? last.range : undefined;
  if (!isSeq(images) || !lastRange) {
    throw new BatonError("KUSTOMIZE_UNSUPPORTED", "cannot add an entry to this images: list in place (empty or not a list)", {
      file, field: "images", hint: "remove the empty `images:` key (Baton then adds the list), or add the entry by hand",
    });
  }
  // The end of the list's last value (a block map's range runs on to the next item).
  const lastPair = isMap(last) ? last.items[last.items.length - 1] : undefined;
  const lastValue = isPair(lastPair) && (isScalar(lastPair.value) || isMap(lastPair.value)) ? lastPair.value.range : undefined;
  const lastEnd = lastValue ? lastValue[1] : lastRange[1];
  if (images.flow) {
    const flowItems = entries.map((e) => `, {${fields(e).join(", ")}}`).join("");
    return applySpans(text, [{ start: lastRange[1], end: lastRange[1], text: flowItems }]);
  }
  // Indent like the last item: its dash, and its first key's column for the other keys.
  const lineStart = text.lastIndexOf("\n", lastRange[0] - 1) + 1;
  const prefix = text.slice(lineStart, lastRange[0]);
  const dash = " ".repeat(Math.max(0, prefix.indexOf("-")));
  const keyIndent = " ".repeat(prefix.length);
  const insertAt = lineEnd(text, lastEnd);
  const firstLine = `${dash}-${" ".repeat(Math.max(1, prefix.length - dash.length - 1))}`;
  const block = entries.map((e) => fields(e).map((f, i) => `\n${i === 0 ? firstLine : keyIndent}${f}`).join("")).join("");
  return applySpans(text, [{ start: insertAt, end: insertAt, text: block }]);
}
