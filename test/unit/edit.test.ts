// Golden tests: a promotion rewrites only the pin substrings; every other byte of the file stays.
import { test } from "node:test";
import assert from "node:assert/strict";
import { promises as fs } from "node:fs";
import path from "node:path";
import { findPinSites, planEdits } from "../../src/config/edit.js";
import { parseImageRef } from "../../src/config/image-ref.js";
import type { PinSet } from "../../src/config/pins.js";

const golden = path.resolve(import.meta.dirname, "../fixtures/golden");

async function want(dir: string): Promise<PinSet> {
  const r = parseImageRef((await fs.readFile(path.join(dir, "want"), "utf8")).trim());
  assert.ok(r.ok);
  return new Map([[r.ref.repository, { repository: r.ref.repository, digest: r.ref.digest as string, tag: r.ref.tag as string }]]);
}

for (const [name, fileName] of [["inline", "web.yaml"], ["kustomize", "kustomization.yaml"]] as const) {
  test(`golden ${name}: only digest substrings change`, async () => {
    const dir = path.join(golden, name);
    const before = await fs.readFile(path.join(dir, "before.yaml"), "utf8");
    const expected = await fs.readFile(path.join(dir, "expected.yaml"), "utf8");
    const plan = planEdits([{ path: `environments/staging/${fileName}`, text: before }], await want(dir));
    assert.equal(plan.noop, false);
    assert.equal(plan.edits.length, 1);
    assert.equal(plan.edits[0]?.after, expected);
    assert.deepEqual(plan.changes.map((c) => c.repository), ["ghcr.io/acme/web"]);
    assert.deepEqual(plan.missing, []);
    // Applying the same plan again is a no-op.
    const again = planEdits([{ path: `environments/staging/${fileName}`, text: expected }], await want(dir));
    assert.equal(again.noop, true);
    assert.deepEqual(again.unchanged, ["ghcr.io/acme/web"]);
  });
}

test("values that merely mention an image are not pin sites", async () => {
  const text = await fs.readFile(path.join(golden, "inline/before.yaml"), "utf8");
  const sites = findPinSites([{ path: "x.yaml", text }]);
  assert.deepEqual(sites.map((s) => `${s.repository}:${s.line}`), ["ghcr.io/acme/web:10", "ghcr.io/acme/web:12", "ghcr.io/acme/sidecar:17", "ghcr.io/acme/web:31"]);
});

test("wanted images the target does not pin are reported, not invented", () => {
  const plan = planEdits([{ path: "a.yaml", text: "kind: ConfigMap\n" }], new Map([["ghcr.io/acme/web", { repository: "ghcr.io/acme/web", digest: `sha256:${"b".repeat(64)}` }]]));
  assert.equal(plan.noop, true);
  assert.deepEqual(plan.missing, ["ghcr.io/acme/web"]);
  assert.deepEqual(plan.edits, []);
});
