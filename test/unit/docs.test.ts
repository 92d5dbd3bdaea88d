import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { withCliReference } from "../../scripts/gen-cli-docs.js";

test("the README's CLI reference is generated from the command definitions (npm run docs)", async () => {
  const readme = await readFile(path.resolve(import.meta.dirname, "../../README.md"), "utf8");
  assert.equal(readme, withCliReference(readme), "README.md is stale: run npm run docs");
});
