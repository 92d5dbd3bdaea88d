/**
 * The worst 2 MiB YAML files we know how to build against Baton's parse limits: each either sits just
 * under a limit (the most work Baton accepts) or is refused by one (the work spent refusing it).
 * Shared by the hostile-YAML benchmark and its unit test.
 */
import { DEFAULT_LIMITS } from "../src/config/limits.js";

const SIZE = 2 * 1024 * 1024 - 64;
const L = DEFAULT_LIMITS;

/** Pads a YAML text with a trailing comment to exactly `SIZE` bytes (comments cost a scan, nothing more). */
const pad = (text: string) => (text.length >= SIZE ? text.slice(0, SIZE) : `${text}\n#${"x".repeat(SIZE - text.length - 2)}`);

const header = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: hostile}\n";

export const HOSTILE_CASES: Record<string, () => string> = {
  // Refused by the pre-scan (what the review saw: 16 s, 1.18 GB; RangeError; minutes).
  "flow nesting [[[[… (refused)": () => `${header}data: ${"[".repeat(SIZE / 2 - 60)}${"]".repeat(SIZE / 2 - 60)}`,
  "block nesting by indentation (refused)": () => { let s = header + "x:\n"; for (let i = 1; s.length < SIZE - 200; i++) s += `${" ".repeat(i)}k:\n`; return s; },
  "compact - - - - nesting (refused)": () => `${header}x: ${"- ".repeat(SIZE / 2 - 60)}x`,
  "1,1,1,… flow sequence (refused)": () => `${header}x: [${"1,".repeat(SIZE / 2 - 60)}1]`,
  "200,000 keys in one map (refused)": () => { let s = header + "data:\n"; for (let i = 0; s.length < SIZE - 100; i++) s += `  k${i}: v\n`; return s; },
  "---×500,000 empty documents (refused)": () => "---\n".repeat(SIZE / 4),
  "2 MiB of blank lines (refused)": () => `${header}${"\n".repeat(SIZE - header.length)}`,
  "comment lines up to the line limit": () => `${header}${`#${"c".repeat(Math.floor(SIZE / L.maxLines) - 3)}\n`.repeat(L.maxLines - 10)}`,
  "blank lines up to the line limit, then nodes": () => pad(`${header}${"\n".repeat(L.maxLines - 20)}data: [${"1,".repeat(L.maxNodes - 100)}1]`),
  // Accepted: the most work Baton does for one file.
  "just under the node limit, flow": () => pad(`${header}values: [${"1,".repeat(L.maxNodes - 200)}1]`),
  "just under the node limit, block keys": () => pad(`${header}data:\n${Array.from({ length: L.maxNodes / 2 - 100 }, (_, i) => `  key-${i}: value-${i}\n`).join("")}`),
  "just under the document limit": () => pad(Array.from({ length: L.maxDocuments - 1 }, () => "{}\n").join("---\n")),
  "just under the depth limit, repeated": () => { const one = `${"[".repeat(L.maxDepth - 4)}1${"]".repeat(L.maxDepth - 4)}`; return pad(`${header}x: [${Array.from({ length: Math.floor(L.maxNodes / L.maxDepth) - 2 }, () => one).join(",")}]`); },
  "one 2 MiB double-quoted string (refused)": () => `${header}data: {x: "${"a".repeat(SIZE - header.length - 30)}"}\n`,
  "double-quoted strings up to the total limit": () => { let s = `${header}data:\n`; for (let i = 0; s.length < L.maxDoubleQuotedTotal - L.maxDoubleQuoted; i++) s += `  k${i}: "${"a".repeat(L.maxDoubleQuoted - 10)}"\n`; return pad(s); },
  "JSON-style, 2 MiB of quoted keys and values (refused)": () => pad(`{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "j"}, "data": {${Array.from({ length: L.maxNodes / 2 - 20 }, (_, i) => `"key-${i}": "${"v".repeat(Math.floor(SIZE / (L.maxNodes / 2)) - 20)}"`).join(", ")}}}`),
  "JSON-style, at the node and quoted-text limits": () => pad(`{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "j"}, "data": {${Array.from({ length: L.maxNodes / 2 - 20 }, (_, i) => `"key-${i}": "${"v".repeat(Math.max(1, Math.floor(L.maxDoubleQuotedTotal / (L.maxNodes / 2)) - 16))}"`).join(", ")}}}`),
  "one 2 MiB single-quoted string": () => `${header}data: {x: '${"a".repeat(SIZE - header.length - 30)}'}\n`,
  "one 2 MiB block scalar": () => `${header}data:\n  x: |\n${`    ${"a".repeat(76)}\n`.repeat(Math.floor((SIZE - header.length - 20) / 81))}`,
  "aliases: the limit, of a large anchor (refused by expansion)": () => pad(`${header}anchor: &a [${"1,".repeat(Math.floor(L.maxNodes / 4))}1]\nrefs: [${Array.from({ length: 10 }, () => "*a").join(",")}]\n`),
  "aliases: as many as allowed in a document this large": () => { const aliases = Math.floor(L.maxAliasWork / L.maxNodes); return pad(`${header}anchor: &a 1\nrefs: [${Array.from({ length: aliases }, () => "*a").join(",")}]\nbulk: [${"1,".repeat(L.maxNodes - aliases - 200)}1]\n`); },
  "aliases: one more than allowed (refused)": () => { const aliases = Math.floor(L.maxAliasWork / L.maxNodes) + 1; return pad(`${header}anchor: &a 1\nrefs: [${Array.from({ length: aliases }, () => "*a").join(",")}]\nbulk: [${"1,".repeat(L.maxNodes - aliases - 200)}1]\n`); },
};
