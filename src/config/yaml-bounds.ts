/**
 * A cheap linear pre-scan that bounds what the `yaml` parser will be asked to build: nesting depth,
 * documents and nodes. The parser needs about 1 KB and 10–30 µs per node and recurses once per nesting
 * level, so a 2 MiB file of `[[[[…` or `1,1,1,…` or 200,000 `---` would block the event loop for tens of
 * seconds and use more than a gigabyte; this scan refuses such a file in milliseconds, before any of it
 * is built.
 *
 * Written by hand because the `yaml` package's own Lexer costs as much as a second on such input. The
 * scan over-approximates (a multi-line plain scalar counts one node per line), so the limits are set well
 * above what real manifests reach.
 */

export interface YamlShape {
  /** Deepest nesting seen (indentation levels + inline `- `/`key:` levels + flow brackets). */
  depth: number;
  /** Documents in the stream (`---` markers, plus the first). */
  documents: number;
  /** Nodes, over-approximated: scalars, keys, sequence items and flow collections. */
  nodes: number;
  /** Longest double-quoted scalar, in characters (the parser's cost for these grows faster than their length). */
  longestDoubleQuoted: number;
  /** All double-quoted scalars together, in characters (the parser needs ~40 bytes of memory per character). */
  doubleQuotedTotal: number;
  /** Alias nodes (`*name`). */
  aliases: number;
}

const SPACE = 32, TAB = 9, LF = 10, CR = 13, HASH = 35, DQUOTE = 34, SQUOTE = 39, BACKSLASH = 92;
const DASH = 45, COLON = 58, QMARK = 63, COMMA = 44, LBRACKET = 91, RBRACKET = 93, LBRACE = 123, RBRACE = 125;
const PIPE = 124, GT = 62, DOT = 46, STAR = 42;

const isBlank = (c: number) => c === SPACE || c === TAB || c === LF || c === CR || Number.isNaN(c);

/**
 * Scans `text` and stops early (returning what it saw so far) as soon as a limit is passed, so the cost
 * is bounded by the limits as much as by the size.
 */
export function scanYamlShape(text: string, limits: { maxDepth: number; maxDocuments: number; maxNodes: number; maxDoubleQuoted: number; maxDoubleQuotedTotal: number; maxAliases: number }): YamlShape {
  const shape: YamlShape = { depth: 0, documents: 1, nodes: 0, longestDoubleQuoted: 0, doubleQuotedTotal: 0, aliases: 0 };
  const n = text.length;
  const indents: number[] = [];
  let i = 0;
  let flow = 0;
  while (i < n) {
    // Start of a line: indentation.
    let indent = 0;
    while (i < n && text.charCodeAt(i) === SPACE) { i++; indent++; }
    const first = text.charCodeAt(i);
    if (i >= n) break;
    if (first === LF || first === CR || first === HASH) { i = skipLine(text, i); continue; }
    if (indent === 0 && flow === 0 && (startsMarker(text, i, DASH) || startsMarker(text, i, DOT))) {
      if (text.charCodeAt(i) === DASH) shape.documents++;
      indents.length = 0;
      i += 3;
      if (shape.documents > limits.maxDocuments) return shape;
    }
    if (flow === 0) {
      while (indents.length > 0 && (indents[indents.length - 1] as number) >= indent) indents.pop();
      indents.push(indent);
    }
    let inline = 0;
    let expectNode = true;
    let blockScalar = false;
    // The rest of the line (a quoted scalar may continue over several lines).
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === LF) { i++; break; }
      if (c === SPACE || c === TAB || c === CR) { i++; continue; }
      const prev = i === 0 ? LF : text.charCodeAt(i - 1);
      if (c === HASH && isBlank(prev)) { i = skipLine(text, i); break; }
      if ((c === DQUOTE || c === SQUOTE) && (expectNode || isBlank(prev) || prev === LBRACKET || prev === LBRACE || prev === COMMA)) {
        shape.nodes++;
        expectNode = false;
        const start = i;
        i = skipQuoted(text, i, c);
        if (c === DQUOTE) {
          shape.longestDoubleQuoted = Math.max(shape.longestDoubleQuoted, i - start);
          shape.doubleQuotedTotal += i - start;
          if (shape.longestDoubleQuoted > limits.maxDoubleQuoted || shape.doubleQuotedTotal > limits.maxDoubleQuotedTotal) return shape;
        }
        continue;
      }
      // In block context a bracket inside a plain scalar (`foo[0]`) is text; it opens a collection only where a node starts.
      if ((c === LBRACKET || c === LBRACE) && (flow > 0 || expectNode)) {
        flow++;
        shape.nodes++;
        expectNode = true;
        i++;
        if (indents.length + inline + flow > limits.maxDepth || shape.nodes > limits.maxNodes) break;
      }
      else if ((c === RBRACKET || c === RBRACE) && flow > 0) { flow--; expectNode = false; i++; }
      else if (c === COMMA && flow > 0) { expectNode = true; i++; }
      else if ((c === DASH || c === QMARK) && expectNode && isBlank(text.charCodeAt(i + 1))) {
        inline++;
        shape.nodes++;
        i++;
        if (indents.length + inline + flow > limits.maxDepth) break;
      } else if (c === COLON && (isBlank(text.charCodeAt(i + 1)) || (flow > 0 && endsFlowEntry(text.charCodeAt(i + 1))))) {
        // A block `key:` may open a nested level on this line (`- a: 1`); flow pairs never nest by themselves.
        if (flow === 0) inline++;
        expectNode = true;
        i++;
      } else if ((c === PIPE || c === GT) && expectNode && flow === 0) {
        blockScalar = true;
        shape.nodes++;
        i = skipLine(text, i);
        break;
      } else {
        if (expectNode && c === STAR && ++shape.aliases > limits.maxAliases) return shape;
        if (expectNode && ++shape.nodes > limits.maxNodes) break;
        expectNode = false;
        i++;
      }
    }
    shape.depth = Math.max(shape.depth, indents.length + inline + flow);
    if (shape.depth > limits.maxDepth || shape.nodes > limits.maxNodes) return shape;
    if (blockScalar) i = skipBlockScalar(text, i, indent);
  }
  return shape;
}

const endsFlowEntry = (c: number) => c === COMMA || c === RBRACKET || c === RBRACE;

function startsMarker(text: string, i: number, c: number): boolean {
  return text.charCodeAt(i) === c && text.charCodeAt(i + 1) === c && text.charCodeAt(i + 2) === c && isBlank(text.charCodeAt(i + 3));
}

function skipLine(text: string, i: number): number {
  const lf = text.indexOf("\n", i);
  return lf === -1 ? text.length : lf + 1;
}

/** Past the closing quote (double quotes have backslash escapes, single quotes double themselves). */
function skipQuoted(text: string, start: number, quote: number): number {
  let i = start + 1;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (quote === DQUOTE && c === BACKSLASH) { i += 2; continue; }
    if (c === quote) {
      if (quote === SQUOTE && text.charCodeAt(i + 1) === SQUOTE) { i += 2; continue; }
      return i + 1;
    }
    i++;
  }
  return i;
}

/** Past the lines of a block scalar: blank lines and lines indented more than its parent. */
function skipBlockScalar(text: string, start: number, parentIndent: number): number {
  let i = start;
  while (i < text.length) {
    let j = i;
    while (j < text.length && text.charCodeAt(j) === SPACE) j++;
    const c = text.charCodeAt(j);
    const blankLine = j >= text.length || c === LF || c === CR;
    if (!blankLine && j - i <= parentIndent) return i;
    i = skipLine(text, j);
  }
  return i;
}
