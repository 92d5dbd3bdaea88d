/**
 * Safe multi-document YAML parsing: syntax errors name the file and line, alias expansion is capped,
 * and every document must be a mapping. Only the values are kept: a document's syntax tree costs about a
 * kilobyte per node and is garbage as soon as its value is read.
 */
import { Composer, Parser, type Document, LineCounter, isMap, isScalar, visit } from "yaml";
import { BatonError } from "../errors.js";
import { DEFAULT_LIMITS, type Limits } from "./limits.js";
import { scanYamlShape } from "./yaml-bounds.js";
import { checkControlCharacters, checkOneMeaning } from "./yaml-meaning.js";

export interface ParsedDoc {
  /** Repo-relative file. */
  file: string;
  /** 0-based index of the document within the file. */
  index: number;
  /** 1-based line where the document starts. */
  line: number;
  value: Record<string, unknown>;
}

/** Refuses, before parsing, a stream deeper, longer or larger in nodes than the limits allow. */
export function checkYamlBounds(text: string, file: string, limits: Limits = DEFAULT_LIMITS): void {
  // The parser spends about as long on a blank or comment line as on a value: 2 MiB of newlines is seconds.
  let lines = 0;
  for (let i = text.indexOf("\n"); i !== -1 && lines <= limits.maxLines; i = text.indexOf("\n", i + 1)) lines++;
  if (lines > limits.maxLines) {
    throw new BatonError("YAML_TOO_MANY_LINES", `more than ${limits.maxLines} lines in one file`, {
      file, hint: "split the file (blank and comment lines count too)",
    });
  }
  const shape = scanYamlShape(text, limits);
  if (shape.depth > limits.maxDepth) {
    throw new BatonError("YAML_TOO_DEEP", `YAML nests deeper than ${limits.maxDepth} levels`, {
      file, hint: "Kubernetes objects are rarely nested more than 30 levels; flatten the structure",
    });
  }
  if (shape.documents > limits.maxDocuments) {
    throw new BatonError("YAML_TOO_MANY_DOCUMENTS", `more than ${limits.maxDocuments} YAML documents in one file`, {
      file, hint: "split the file",
    });
  }
  if (shape.aliases > limits.maxAliases) {
    throw new BatonError("YAML_ALIAS_LIMIT", `more than ${limits.maxAliases} YAML aliases in one file`, {
      file, hint: "write the values out instead of using anchors/aliases (alias bombs are rejected)",
    });
  }
  if (shape.aliases * shape.nodes > limits.maxAliasWork) {
    throw new BatonError("YAML_ALIAS_LIMIT", `${shape.aliases} YAML aliases in a file of ${shape.nodes} nodes is too many (at most ${Math.floor(limits.maxAliasWork / Math.max(1, shape.nodes))} here)`, {
      file, hint: "write the values out instead of using anchors/aliases, or split the file",
    });
  }
  if (shape.longestDoubleQuoted > limits.maxDoubleQuoted) {
    throw new BatonError("YAML_SCALAR_TOO_LONG", `a double-quoted string is longer than ${limits.maxDoubleQuoted} characters`, {
      file, hint: "write long text as a block scalar (key: |) or single-quoted; double-quoted strings this long are slow to read",
    });
  }
  if (shape.doubleQuotedTotal > limits.maxDoubleQuotedTotal) {
    throw new BatonError("YAML_SCALAR_TOO_LONG", `double-quoted strings total more than ${limits.maxDoubleQuotedTotal} characters in one file`, {
      file, hint: "write long text as block scalars (key: |) or single-quoted, or split the file; double-quoted text is the slowest to read",
    });
  }
  if (shape.nodes > limits.maxNodes) {
    throw new BatonError("YAML_TOO_MANY_NODES", `more than ${limits.maxNodes} YAML nodes (values, keys, list items) in one ${file.endsWith("(kustomize build)") ? "object" : "file"}`, {
      file, hint: "split the file; this many values usually means generated data that belongs elsewhere",
    });
  }
}

/**
 * Duplicate keys, found in one pass (the parser's own `uniqueKeys` check compares every key with every
 * other: a mapping with 200,000 keys takes minutes).
 */
function duplicateKey(doc: Document.Parsed): string | undefined {
  let found: string | undefined;
  visit(doc, {
    Map(_key, map) {
      const seen = new Set<string>();
      for (const pair of map.items) {
        const key = isScalar(pair.key) ? `${typeof pair.key.value}:${String(pair.key.value)}` : JSON.stringify(pair.key);
        if (seen.has(key)) {
          found = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
          return visit.BREAK;
        }
        seen.add(key);
      }
      return undefined;
    },
  });
  return found;
}

/**
 * Counts the values of a parsed document as every later consumer sees them, aliases expanded (a
 * hundred aliases of one large anchor are a hundred copies once serialised for the API server).
 * Stops at `budget`, so the cost is bounded by the limit, not by the expansion.
 */
function countExpanded(value: unknown, budget: number): number {
  let count = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0 && count <= budget) {
    const v = stack.pop();
    count++;
    if (Array.isArray(v)) for (const item of v) stack.push(item);
    else if (v !== null && typeof v === "object") for (const [k, item] of Object.entries(v)) stack.push(k, item);
  }
  return count;
}

export function parseYamlDocs(text: string, file: string, limits: Limits = DEFAULT_LIMITS): ParsedDoc[] {
  checkControlCharacters(text, file);
  checkYamlBounds(text, file, limits);
  const lineCounter = new LineCounter();
  // Documents are composed and converted one at a time, so only one syntax tree is alive at once.
  const composer = new Composer({ prettyErrors: false, uniqueKeys: false });
  const out: ParsedDoc[] = [];
  let expanded = 0;
  let index = -1;
  for (const doc of composer.compose(new Parser(lineCounter.addNewLine).parse(text))) {
    index++;
    const line = lineCounter.linePos(doc.contents?.range?.[0] ?? doc.range[0]).line;
    const err = doc.errors[0];
    if (err) {
      const pos = lineCounter.linePos(err.pos[0]);
      throw new BatonError("YAML_SYNTAX", `YAML syntax error at line ${pos.line}, column ${pos.col}: ${err.message.split("\n")[0]}`, {
        file,
        hint: "fix the YAML syntax (a linter such as yamllint shows the exact spot)",
      });
    }
    if (doc.contents === null) continue; // empty document between `---` separators
    checkOneMeaning(doc, lineCounter, file);
    const duplicate = duplicateKey(doc);
    if (duplicate !== undefined) {
      throw new BatonError("YAML_SYNTAX", `document ${index + 1}: map keys must be unique; "${duplicate.slice(0, 100)}" is repeated`, {
        file, hint: "remove the duplicate key (YAML readers disagree on which value wins)",
      });
    }
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
    if (value === null || value === undefined) continue;
    expanded += countExpanded(value, limits.maxNodes - expanded);
    if (expanded > limits.maxNodes) {
      throw new BatonError("YAML_TOO_MANY_NODES", `document ${index + 1} expands to more than ${limits.maxNodes} YAML nodes (counting what aliases repeat)`, {
        file, hint: "write the values out instead of repeating large anchors, or split the file",
      });
    }
    if (!isMap(doc.contents) || typeof value !== "object" || Array.isArray(value)) {
      throw new BatonError("OBJECT_NOT_A_MAP", `document ${index + 1} (line ${line}) is not a mapping`, {
        file,
        hint: "every YAML document must be a Kubernetes object (a mapping with apiVersion, kind and metadata)",
      });
    }
    out.push({ file, index, line, value: value as Record<string, unknown> });
  }
  return out;
}
