// One meaning for YAML: spellings that YAML 1.1 readers (kubectl, kustomize) and YAML 1.2 readers (Baton)
// read differently are refused; what Baton prints is read the same by both; promotion edits keep every
// byte outside the digest (BOM, CRLF, any UTF-8), and files that are not UTF-8 are refused.
import { test } from "node:test";
import assert from "node:assert/strict";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parse } from "yaml";
import { BatonError } from "../../src/errors.js";
import { planEdits } from "../../src/config/edit.js";
import { readLimited } from "../../src/config/files.js";
import { loadPipeline } from "../../src/config/pipeline.js";
import { planPin } from "../../src/config/repo.js";
import { toPortableYaml } from "../../src/config/yaml-out.js";
import { parseYamlDocs } from "../../src/config/yaml-safe.js";

const codeOf = (text: string): string | undefined => {
  try {
    parseYamlDocs(text, "x.yaml");
    return undefined;
  } catch (e) {
    assert.ok(e instanceof BatonError, String(e));
    return e.code;
  }
};

test("YAML 1.1-only spellings are refused with the fix in the hint", () => {
  for (const v of ["0400", "0644", "-0755", "yes", "No", "ON", "off", "y", "N", "0b101", "1_000", "0x_ff", "1_0.5"]) {
    assert.equal(codeOf(`a: ${v}\n`), "YAML_AMBIGUOUS", v);
  }
  for (const v of ["2001-12-14", "2001-1-2", "2001-12-14t21:59:43.10-05:00", "2001-12-14 21:59:43.10 -5", "2026-01-01T00:00:00Z"]) {
    assert.equal(codeOf(`date: ${v}\n`), "YAML_AMBIGUOUS", v);
  }
  assert.equal(codeOf("on: push\n"), "YAML_AMBIGUOUS", "keys too");
  assert.equal(codeOf("- yes\n"), "YAML_AMBIGUOUS", "sequence items too");
  assert.equal(codeOf("base: &b {x: 1}\nm:\n  <<: *b\n"), "YAML_AMBIGUOUS", "merge keys");
  for (const tagged of ["a: !!binary aGk=", "a: !!int 7", "a: !custom x", "a: !!set {x}", "a: !!timestamp 2001-12-14"]) {
    assert.ok(["YAML_UNSUPPORTED_TAG"].includes(codeOf(`${tagged}\n`) ?? ""), tagged);
  }
  assert.equal(codeOf("a: 1\u0000\n"), "YAML_CONTROL_CHARACTER");
  assert.equal(codeOf("a: \"\u0007\"\n"), "YAML_CONTROL_CHARACTER");
  try {
    parseYamlDocs("spec:\n  defaultMode: 0400\n", "secret.yaml");
    assert.fail("accepted");
  } catch (e) {
    assert.ok(e instanceof BatonError);
    assert.match(e.message, /line 2, column 16/);
    assert.match(e.message, /octal 256/);
    assert.match(e.hint ?? "", /0o400.*400/);
  }
});

test("spellings both versions read alike are accepted", () => {
  const text = [
    "a: '0400'", "b: \"yes\"", "c: 0o400", "d: 0x1F", "e: 7", "f: 07", "g: 0", "h: true", "i: True", "j: null", "k: ~", "l: 1e3", "m: 1.5",
    "nn: '<<'", "o: !!str 0400", "p: |", "  yes", "  0400", "q: hello world", "r: 1:20", "port: 22:22", "v: 2001-12", "w: 20011214", "x: v2001-12-14", "s: -1", "t: \"on\"", "u: '0b101'", "\"y\": quoted key", "",
  ].join("\n");
  const [doc] = parseYamlDocs(text, "x.yaml");
  assert.equal(doc?.value.a, "0400");
  assert.equal(doc?.value.c, 256);
  assert.equal(doc?.value.o, "0400");
  assert.equal(doc?.value.p, "yes\n0400\n");
  // Base 60 is text to kubectl and kustomize (go-yaml) as to Baton.
  assert.equal(doc?.value.port, "22:22");
});

test("rendered YAML means the same to YAML 1.1 and 1.2 readers", () => {
  const obj = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "x", annotations: { on: "yes" } }, data: { a: "0400", b: "no", c: "1_000", d: "0b11", e: "2026-01-01", f: "1:20", g: "y", h: "null", i: "~" }, n: 256, t: true };
  const out = toPortableYaml(obj);
  assert.deepEqual(parse(out, { version: "1.1" }), obj);
  assert.deepEqual(parse(out, { version: "1.2" }), obj);
});

test("a promotion edit keeps every byte outside the digest: BOM, CRLF, multi-byte UTF-8", () => {
  const old = `sha256:${"a".repeat(64)}`, next = `sha256:${"b".repeat(64)}`;
  const before = `\uFEFF# 部署 — ñandú 🚀\r\napiVersion: apps/v1\r\nkind: Deployment\r\nmetadata: {name: web} # コメント\r\nspec:\r\n  template:\r\n    spec:\r\n      containers:\r\n        - name: web\r\n          image: ghcr.io/acme/web@${old} # ✓\r\n`;
  const plan = planEdits([{ path: "environments/prod/web.yaml", text: before }], new Map([["ghcr.io/acme/web", { repository: "ghcr.io/acme/web", digest: next }]]));
  assert.equal(plan.edits[0]?.after, before.replace(old, next));
  assert.deepEqual(Buffer.from(plan.edits[0]?.after ?? "", "utf8"), Buffer.from(before.replace(old, next), "utf8"));
});

test("a file that is not UTF-8 is refused, naming the file, line and byte", async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "baton-latin1-"));
  const file = path.join(dir, "web.yaml");
  await fs.writeFile(file, Buffer.concat([Buffer.from("apiVersion: v1\nkind: ConfigMap\n# caf"), Buffer.from([0xe9]), Buffer.from("\nmetadata: {name: x}\n")]));
  await assert.rejects(readLimited(dir, file), (e: unknown) => {
    assert.ok(e instanceof BatonError);
    assert.equal(e.code, "FILE_NOT_UTF8");
    assert.equal(e.file, "web.yaml");
    assert.match(e.message, /0xe9 at line 3/);
    return true;
  });
});

test("baton pin reads the environment as validate does: a YAML 1.1-only spelling is refused before any edit", async () => {
  const repo = await fs.mkdtemp(path.join(os.tmpdir(), "baton-pin-meaning-"));
  await fs.mkdir(path.join(repo, "environments/testing"), { recursive: true });
  await fs.writeFile(path.join(repo, "baton.yaml"), "apiVersion: baton.dev/v1alpha1\nkind: Pipeline\nenvironments:\n  - name: testing\n    path: environments/testing\n    namespace: web\n");
  const old = `sha256:${"a".repeat(64)}`;
  await fs.writeFile(path.join(repo, "environments/testing/web.yaml"), `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  labels:\n    released: 2026-01-01\nspec:\n  template:\n    spec:\n      containers:\n        - name: web\n          image: ghcr.io/acme/web@${old}\n`);
  const pipeline = await loadPipeline(repo);
  const pins = [{ repository: "ghcr.io/acme/web", digest: `sha256:${"b".repeat(64)}` }];
  await assert.rejects(planPin(repo, pipeline, "testing", pins), (e: unknown) => {
    assert.ok(e instanceof BatonError, String(e));
    assert.equal(e.code, "YAML_AMBIGUOUS");
    assert.equal(e.file, "environments/testing/web.yaml");
    assert.match(e.message, /"2026-01-01" at line 6, column 15 .* a timestamp/);
    return true;
  });
  // Quoted, the same file pins.
  const file = path.join(repo, "environments/testing/web.yaml");
  await fs.writeFile(file, (await fs.readFile(file, "utf8")).replace("released: 2026-01-01", 'released: "2026-01-01"'));
  assert.equal((await planPin(repo, pipeline, "testing", pins)).edits.length, 1);
  await fs.rm(repo, { recursive: true, force: true });
});
