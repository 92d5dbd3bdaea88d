/**
 * One meaning for YAML. Baton reads YAML 1.2 (the `yaml` package); kubectl, kustomize and the Kubernetes
 * API machinery read YAML through go-yaml with YAML 1.1 rules. Where the two disagree about a plain
 * scalar, the same file would mean one thing to `baton validate`/`render`/the agent and another to
 * `kubectl apply`, so Baton refuses the spelling and asks for the unambiguous one:
 *
 * | written        | YAML 1.2 (Baton)   | YAML 1.1 (kubectl)  |
 * |----------------|--------------------|---------------------|
 * | `0400`         | 400                | 256 (octal)         |
 * | `0b101`        | "0b101"            | 5                   |
 * | `1_000`        | "1_000"            | 1000                |
 * | `yes` `on` `y` | "yes" "on" "y"     | true                |
 * | `<<: *base`    | a key named "<<"   | merge of `base`     |
 * | `2001-12-14`   | "2001-12-14"       | a timestamp: kustomize writes "2001-12-14T00:00:00Z" |
 * | `!!binary …`, `!custom …` | varies  | varies              |
 *
 * Quoted scalars and block scalars are strings to both and are never refused. Base-60 numbers (`22:22`,
 * `1:20`) are YAML 1.1 integers on paper, but kubectl and kustomize (go-yaml) read them as strings, as
 * Baton does, so they are accepted as strings (and `render` quotes them for strict YAML 1.1 readers).
 */
import { isMap, isScalar, isSeq, visit, type Document, type LineCounter, type Node } from "yaml";
import { BatonError } from "../errors.js";

const BOOL_1_1 = /^(?:y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF)$/;
const OCTAL_1_1 = /^[-+]?0[0-7]+$/;
const BINARY_1_1 = /^[-+]?0b[01_]+$/;
const UNDERSCORE_NUMBER_1_1 = /^[-+]?(?:0x[0-9a-fA-F_]*|0b[01_]*|[0-9][0-9_]*(?:\.[0-9_]*)?(?:[eE][-+]?[0-9]+)?)$/;
// go-yaml's timestamp forms (YYYY-M-D, optionally with a time and zone), which kustomize rewrites in RFC 3339.
const TIMESTAMP_1_1 = /^\d{4}-\d{1,2}-\d{1,2}(?:(?:[Tt]|[ \t]+)\d{1,2}:\d{1,2}:\d{1,2}(?:\.\d*)?(?:[ \t]*(?:Z|[-+]\d{1,2}(?::?\d{2})?))?)?$/;
const STR_TAG = "tag:yaml.org,2002:str";
const COLLECTION_TAGS = new Set(["tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"]);

/** Why a plain scalar reads differently in YAML 1.1, and how to write it, or undefined when it does not. */
export function ambiguity(source: string): { reads: string; fix: string } | undefined {
  if (BOOL_1_1.test(source)) return { reads: "a boolean", fix: `quote it ("${source}") for text, or write true/false` };
  if (OCTAL_1_1.test(source) && parseInt(source, 8) !== parseInt(source, 10)) {
    return { reads: `octal ${parseInt(source, 8)}`, fix: `write 0o${source.replace(/^[-+]?0+/, "")} (octal) or ${parseInt(source, 10)} (decimal), or quote it for text` };
  }
  if (BINARY_1_1.test(source)) return { reads: "a binary number", fix: "write the number in decimal, or quote it for text" };
  if (TIMESTAMP_1_1.test(source)) return { reads: "a timestamp (kustomize rewrites it as RFC 3339, e.g. 2001-12-14T00:00:00Z)", fix: `quote it ("${source}")` };
  if (source.includes("_") && UNDERSCORE_NUMBER_1_1.test(source)) return { reads: `the number ${source.replace(/_/g, "")}`, fix: "drop the underscores, or quote it for text" };
  return undefined;
}

/** Throws on the first scalar, key, merge key or tag whose meaning depends on the YAML version. */
export function checkOneMeaning(doc: Document.Parsed, lineCounter: LineCounter, file: string): void {
  const at = (node: Node | null | undefined) => {
    const pos = lineCounter.linePos(node?.range?.[0] ?? 0);
    return `line ${pos.line}, column ${pos.col}`;
  };
  const warning = doc.warnings.find((w) => w.code === "TAG_RESOLVE_FAILED");
  if (warning) {
    throw new BatonError("YAML_UNSUPPORTED_TAG", `${warning.message.split("\n")[0]}`, { file, hint: "remove the tag; Kubernetes manifests need no YAML tags" });
  }
  let problem: BatonError | undefined;
  visit(doc, {
    Pair(_key, pair) {
      if (isScalar(pair.key) && pair.key.type === "PLAIN" && pair.key.source === "<<") {
        problem = new BatonError("YAML_AMBIGUOUS", `merge key "<<" at ${at(pair.key)}: YAML 1.1 readers (kubectl, kustomize) merge the referenced map here, YAML 1.2 readers keep a key named "<<"`, {
          file, hint: "write the merged keys out (or quote \"<<\" if you really mean a key of that name)",
        });
        return visit.BREAK;
      }
      return undefined;
    },
    Node(_key, node) {
      const tag = (node as { tag?: string }).tag;
      const allowed = tag === undefined || tag === STR_TAG || ((isMap(node) || isSeq(node)) && COLLECTION_TAGS.has(tag));
      if (!allowed) {
        problem = new BatonError("YAML_UNSUPPORTED_TAG", `tag ${tag} at ${at(node)} is read differently by YAML 1.1 and 1.2 readers`, {
          file, hint: "remove the tag and write the value plainly (!!str is the only tag Baton accepts)",
        });
        return visit.BREAK;
      }
      if (isScalar(node) && node.type === "PLAIN" && tag === undefined && typeof node.source === "string") {
        const why = ambiguity(node.source);
        if (why) {
          problem = new BatonError("YAML_AMBIGUOUS", `"${node.source}" at ${at(node)} is a string to YAML 1.2 readers (Baton) but ${why.reads} to YAML 1.1 readers (kubectl, kustomize)`, {
            file, hint: why.fix,
          });
          return visit.BREAK;
        }
      }
      return undefined;
    },
  });
  if (problem) throw problem;
}

/** NUL and other C0 control characters: YAML forbids them, and readers differ in how they fail. */
export function checkControlCharacters(text: string, file: string): void {
  // eslint-disable-next-line no-control-regex
  const match = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/.exec(text);
  if (!match) return;
  const line = text.slice(0, match.index).split("\n").length;
  throw new BatonError("YAML_CONTROL_CHARACTER", `control character U+${match[0].charCodeAt(0).toString(16).padStart(4, "0").toUpperCase()} at line ${line}`, {
    file, hint: "remove it; YAML files may contain only printable characters, tabs and line breaks",
  });
}
