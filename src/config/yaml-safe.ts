/**
 * Safe multi-document YAML parsing: syntax errors name the file and line, alias expansion is capped,
 * and every document must be a mapping. Returns the parsed `Document`s too, for byte-preserving edits.
 */
import { parseAllDocuments, type Document, LineCounter, isMap } from "yaml";
import { BatonError } from "../errors.js";
import { DEFAULT_LIMITS, type Limits } from "./limits.js";

export interface ParsedDoc {
  /** Repo-relative file. */
  file: string;
  /** 0-based index of the document within the file. */
  index: number;
  /** 1-based line where the document starts. */
  line: number;
  value: Record<string, unknown>;
  doc: Document.Parsed;
}

export function parseYamlDocs(text: string, file: string, limits: Limits = DEFAULT_LIMITS): ParsedDoc[] {
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (!Array.isArray(docs)) {
    // An empty stream parses to an EmptyStream object.
    return [];
  }
  const out: ParsedDoc[] = [];
  docs.forEach((doc, index) => {
    const line = lineCounter.linePos(doc.contents?.range?.[0] ?? doc.range[0]).line;
    const err = doc.errors[0];
    if (err) {
      const pos = lineCounter.linePos(err.pos[0]);
      throw new BatonError("YAML_SYNTAX", `YAML syntax error at line ${pos.line}, column ${pos.col}: ${err.message.split("\n")[0]}`, {
        file,
        hint: "fix the YAML syntax (a linter such as yamllint shows the exact spot)",
      });
    }
    if (doc.contents === null) return; // empty document between `---` separators
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: limits.maxAliases });
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      if (/alias/i.test(message)) {
        throw new BatonError("YAML_ALIAS_LIMIT", `document ${index + 1} expands more than ${limits.maxAliases} YAML aliases`, {
          file,
          hint: "write the values out instead of using anchors/aliases (alias bombs are rejected)",
        });
      }
      throw new BatonError("YAML_SYNTAX", `document ${index + 1}: ${message}`, { file, hint: "fix the YAML" });
    }
    if (value === null || value === undefined) return;
    if (!isMap(doc.contents) || typeof value !== "object" || Array.isArray(value)) {
      throw new BatonError("OBJECT_NOT_A_MAP", `document ${index + 1} (line ${line}) is not a mapping`, {
        file,
        hint: "every YAML document must be a Kubernetes object (a mapping with apiVersion, kind and metadata)",
      });
    }
    out.push({ file, index, line, value: value as Record<string, unknown>, doc });
  });
  return out;
}
