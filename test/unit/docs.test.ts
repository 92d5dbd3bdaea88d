import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { Command } from "commander";
import { withCliReference } from "../../scripts/gen-cli-docs.js";
import { buildProgram, COMMAND_MODULES } from "../../src/cli/program.js";

test("the README's CLI reference is generated from the command definitions (npm run docs)", async () => {
  const readme = await readFile(path.resolve(import.meta.dirname, "../../README.md"), "utf8");
  assert.equal(readme, await withCliReference(readme), "README.md is stale: run npm run docs");
});

test("each command module registers exactly the names the lazy table gives it, so `baton <name>` loads the right one", async () => {
  for (const module of COMMAND_MODULES) {
    const program = new Command();
    (await module.load())(program);
    assert.deepEqual(program.commands.map((c) => c.name()), [...module.names]);
  }
});

test("argv naming a command builds only that command; help, --version or an unknown word build them all", async () => {
  const names = async (...args: string[]) => (await buildProgram(["node", "baton", ...args])).commands.map((c) => c.name());
  assert.deepEqual(await names("pin", "testing", "--digest", "x"), ["pin"]);
  assert.deepEqual(await names("abort", "staging"), ["confirm", "abort"]);
  const all = COMMAND_MODULES.flatMap((m) => m.names);
  assert.deepEqual(await names(), all);
  assert.deepEqual(await names("--help"), all);
  assert.deepEqual(await names("--version"), []);
  assert.deepEqual(await names("pni"), all);
  // An option's value before the command is taken for the command's name: that costs loading everything, not correctness.
  assert.deepEqual(await names("--output", "json", "unreject", "prod"), all);
});
