// The pre-scan bounds what the parser builds: it refuses deep, long, node-heavy and alias-heavy input
// before parsing, over-approximates (never under-counts) real manifests, and is not fooled by brackets,
// dashes and colons inside strings, comments and block scalars.
import { test } from "node:test";
import assert from "node:assert/strict";
import { promises as fs } from "node:fs";
import path from "node:path";
import { parseAllDocuments } from "yaml";
import { BatonError } from "../../src/errors.js";
import { DEFAULT_LIMITS, type Limits } from "../../src/config/limits.js";
import { scanYamlShape } from "../../src/config/yaml-bounds.js";
import { parseYamlDocs } from "../../src/config/yaml-safe.js";

const L = DEFAULT_LIMITS;
const code = (text: string, limits: Limits = L): string | undefined => {
  try {
    parseYamlDocs(text, "x.yaml", limits);
    return undefined;
  } catch (e) {
    assert.ok(e instanceof BatonError, String(e));
    return e.code;
  }
};

/** Real nesting depth and node count of parsed values. */
function measure(value: unknown, depth = 0): { depth: number; nodes: number } {
  if (Array.isArray(value) || (value !== null && typeof value === "object")) {
    const children = Array.isArray(value) ? value : Object.entries(value).flat();
    return children.reduce<{ depth: number; nodes: number }>((acc, c) => {
      const m = measure(c, depth + 1);
      return { depth: Math.max(acc.depth, m.depth), nodes: acc.nodes + m.nodes };
    }, { depth: depth + 1, nodes: 1 });
  }
  return { depth, nodes: 1 };
}

test("each limit refuses input just over it, with its code, and accepts input at it", () => {
  const nest = (n: number) => `x: ${"[".repeat(n)}1${"]".repeat(n)}\n`;
  assert.equal(code(nest(L.maxDepth - 3)), undefined);
  assert.equal(code(nest(L.maxDepth + 1)), "YAML_TOO_DEEP");
  assert.equal(code("{}\n---\n".repeat(L.maxDocuments - 1)), undefined);
  assert.equal(code("a: 1\n---\n".repeat(L.maxDocuments + 1)), "YAML_TOO_MANY_DOCUMENTS");
  assert.equal(code(`x: [${"1,".repeat(L.maxNodes - 10)}1]\n`), undefined);
  assert.equal(code(`x: [${"1,".repeat(L.maxNodes + 10)}1]\n`), "YAML_TOO_MANY_NODES");
  assert.equal(code(`x: "${"a".repeat(L.maxDoubleQuoted - 2)}"\n`), undefined);
  assert.equal(code(`x: "${"a".repeat(L.maxDoubleQuoted + 1)}"\n`), "YAML_SCALAR_TOO_LONG");
  assert.equal(code(`x: '${"a".repeat(L.maxDoubleQuoted * 4)}'\n`), undefined, "single-quoted strings are cheap and not limited");
  const quoted = (n: number) => Array.from({ length: n }, (_, i) => `k${i}: "${"a".repeat(L.maxDoubleQuoted - 10)}"`).join("\n");
  assert.equal(code(`${quoted(Math.floor(L.maxDoubleQuotedTotal / L.maxDoubleQuoted))}\n`), undefined);
  assert.equal(code(`${quoted(Math.floor(L.maxDoubleQuotedTotal / L.maxDoubleQuoted) + 1)}\n`), "YAML_SCALAR_TOO_LONG", "double-quoted text in total");
  assert.equal(code(`a: &a [1]\nb: [${Array(L.maxAliases + 1).fill("*a").join(",")}]\n`), "YAML_ALIAS_LIMIT");
  const many = 11;
  assert.equal(code(`a: &a 1\nb: [${Array(many).fill("*a").join(",")}]\nc: [${"1,".repeat(L.maxNodes - 100)}1]\n`), "YAML_ALIAS_LIMIT", "aliases × nodes");
  assert.equal(code(`a: &a [${"1,".repeat(5000)}1]\nb: [${Array(20).fill("*a").join(",")}]\n`, { ...L, maxAliasWork: 10_000_000 }), "YAML_TOO_MANY_NODES", "expansion counts");
});

test("JSON written on one line is as deep as its brackets, not its keys", () => {
  const json = JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "j" }, data: Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`k${i}`, `v${i}`])) });
  assert.equal(code(`${json}\n`), undefined);
  assert.ok(scanYamlShape(json, L).depth <= 4, `depth ${scanYamlShape(json, L).depth}`);
});

test("a mapping with many keys is checked for duplicates in linear time", () => {
  const keys = Array.from({ length: Math.floor(L.maxNodes / 2) - 100 }, (_, i) => `k${i}: 1`).join("\n");
  assert.equal(code(`${keys}\n`), undefined);
  assert.equal(code(`${keys}\nk7: 2\n`), "YAML_SYNTAX");
});

test("strings, comments and block scalars do not count as structure", () => {
  const text = [
    "a: \"[[[[{{{{ - : ,,,, \\\" [[[[\"", "b: '[[[[ it''s - : ]]]]'", "c: foo[0]{1}", "# [[[[[[[[[[ - - - - :",
    "d: |", "  [[[[[[[[[[[[", "  - - - - - - - -", "  ---", "e: http://x:80/a#b", "f: >-", "  {{{{{{{{{{{", "g: [1, 2]", "",
  ].join("\n");
  const shape = scanYamlShape(text, { ...L, maxDepth: 5 });
  assert.ok(shape.depth <= 3, `depth ${shape.depth}`);
  assert.equal(shape.documents, 1);
  assert.ok(shape.nodes >= 15 && shape.nodes <= 20, `nodes ${shape.nodes}`);
});

test("on real manifests the scan never under-counts depth or nodes", async () => {
  const root = path.resolve(import.meta.dirname, "../..");
  const files = ["environments/testing", "environments/staging", "test/fixtures/kustomize/base", "charts/baton/crds"];
  let checked = 0;
  for (const dir of files) {
    for (const name of await fs.readdir(path.join(root, dir))) {
      if (!/\.ya?ml$/.test(name)) continue;
      const text = await fs.readFile(path.join(root, dir, name), "utf8");
      const shape = scanYamlShape(text, { ...L, maxNodes: Infinity, maxDepth: Infinity });
      const real = parseAllDocuments(text).map((d) => measure(d.toJS())).reduce((a, m) => ({ depth: Math.max(a.depth, m.depth), nodes: a.nodes + m.nodes }), { depth: 0, nodes: 0 });
      assert.ok(shape.depth >= real.depth, `${dir}/${name}: scan depth ${shape.depth} < ${real.depth}`);
      assert.ok(shape.nodes >= real.nodes * 0.5 && shape.nodes <= real.nodes * 2, `${dir}/${name}: scan nodes ${shape.nodes} vs ${real.nodes}`);
      checked++;
    }
  }
  assert.ok(checked >= 5, `only ${checked} files`);
});
