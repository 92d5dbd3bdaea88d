// End to end (see e2e-promotion.test.ts) with rebase merges — new SHAs, no merge commit, PR numbers only
// from GitHub — and a person's hand edit of a digest, which rollback reverts like any promotion.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { promises as fs } from "node:fs";
import path from "node:path";
import { findMergeTarget, mergeBatonPull } from "../../src/promote/merge.js";
import { rollback } from "../../src/promote/rollback.js";
import { git } from "../support/example-repo.js";
import { DEFAULT_SETTINGS } from "../support/github-double.js";
import { digestFor, promotionCycle, startE2E, type E2E } from "../support/e2e-promotion.js";

let e: E2E;
before(async () => {
  e = await startE2E("b");
});
after(async () => {
  assert.deepEqual(e?.github.violations, []);
  await e?.stop();
});

test("rebase merges: pin → policy → approval → merge → deploy → rollback → history", async () => {
  await promotionCycle(e, "rebase", digestFor("e3"));
});

test("a hand edit of a digest (no Baton commit) is rolled back like a promotion", async () => {
  e.github.settings = { ...DEFAULT_SETTINGS };
  const before = await e.image("staging");
  const hotfix = digestFor("f0");
  const file = path.join(e.dev, "environments/staging/web.yaml");
  await fs.writeFile(file, (await fs.readFile(file, "utf8")).replace(/(image: ghcr\.io\/acme\/web[^@\n]*)@sha256:[0-9a-f]{64}/, `$1@${hotfix}`));
  await git(e.dev, "commit", "--quiet", "-am", "Hotfix: run the patched build");
  await git(e.dev, "push", "--quiet", "origin", "main");
  const edited = await git(e.dev, "rev-parse", "HEAD");
  await e.envAt("staging", edited);
  assert.match(await e.image("staging") ?? "", new RegExp(`@${hotfix}$`));
  const rb = await rollback({ repo: e.dev, env: "staging", github: e.gh });
  assert.deepEqual(rb.reverted.map((r) => r.sha), [edited]);
  await e.github.review(rb.pull?.number ?? 0, "alice");
  await mergeBatonPull(e.api, await findMergeTarget(e.api, "staging"));
  await e.envAt("staging", await e.main());
  assert.equal(await e.image("staging"), before);
});
