// Every folder under test/fixtures/bad is a broken config repo; `expect` holds the error code Baton must report.
import { test } from "node:test";
import assert from "node:assert/strict";
import { promises as fs } from "node:fs";
import path from "node:path";
import { validateRepo } from "../../src/config/repo.js";
import { DEFAULT_LIMITS, type Limits } from "../../src/config/limits.js";

const corpus = path.resolve(import.meta.dirname, "../fixtures/bad");
const cases = (await fs.readdir(corpus)).sort();

test("the bad-input corpus has at least 30 cases", () => {
  assert.ok(cases.length >= 30, `only ${cases.length} cases`);
});

for (const name of cases) {
  test(`bad input ${name} is rejected with its code`, async () => {
    const dir = path.join(corpus, name);
    const expected = (await fs.readFile(path.join(dir, "expect"), "utf8")).trim();
    let limits: Limits = DEFAULT_LIMITS;
    try {
      limits = { ...DEFAULT_LIMITS, ...(JSON.parse(await fs.readFile(path.join(dir, "limits.json"), "utf8")) as Partial<Limits>) };
    } catch {
      // default limits
    }
    const report = await validateRepo(dir, { limits });
    assert.equal(report.ok, false);
    const codes = report.errors.map((e) => e.code);
    assert.ok(codes.includes(expected as (typeof codes)[number]), `expected ${expected}, got ${codes.join(", ")}`);
    // No partial result: a broken environment contributes no objects or pins.
    assert.equal(report.environments.length, 0, `environments should be empty, got ${JSON.stringify(report.environments)}`);
    for (const e of report.errors) {
      assert.ok(e.hint, `${e.code} has no hint`);
      assert.ok(e.file || e.field, `${e.code} names neither a file nor a field`);
    }
  });
}
