// Branch names, PR titles/bodies and truncation: deterministic and within GitHub's limits.
import { test } from "node:test";
import assert from "node:assert/strict";
import { imagesPhrase, promotionBranch, promotionTitle, pullNumberFromSubject, rollbackBranch } from "../../src/promote/naming.js";
import { MAX_BODY, pullBody, truncateDiff, TRUNCATION_MARKER } from "../../src/promote/pr-body.js";
import { diffStats, unifiedDiff } from "../../src/promote/diff.js";
import type { PinChange } from "../../src/config/edit.js";

const web = { repository: "ghcr.io/acme/web", digest: `sha256:abcd123${"0".repeat(57)}`, tag: "1.5.0" };
const api = { repository: "ghcr.io/acme/api", digest: `sha256:ffff999${"0".repeat(57)}` };
const change: PinChange = { repository: web.repository, from: { repository: web.repository, digest: `sha256:${"1".repeat(64)}`, tag: "1.4.0" }, to: web, sites: [{ file: "environments/staging/web.yaml", line: 20 }] };

test("titles and branches name the image by short name and 7 hex", () => {
  assert.equal(promotionTitle("staging", [web]), "Promote web@sha256:abcd123 to staging");
  assert.equal(promotionBranch("staging", [web]), "baton/promote/staging/abcd123");
  // Several images: sorted by repository, so the key is stable whatever the order given.
  assert.equal(imagesPhrase([web, api]), "api@sha256:ffff999 and 1 more");
  assert.equal(promotionBranch("production", [web, api]), promotionBranch("production", [api, web]));
  assert.equal(rollbackBranch("production", "0123456789abcdef"), "baton/rollback/production/0123456");
});

test("PR numbers are read from merge and squash subjects", () => {
  assert.equal(pullNumberFromSubject("Merge pull request #12 from acme/baton/promote/staging/abcd123"), 12);
  assert.equal(pullNumberFromSubject("Promote web@sha256:abcd123 to staging (#7)"), 7);
  assert.equal(pullNumberFromSubject("Promote web@sha256:abcd123 to staging"), undefined);
});

test("the body has the table, the reason and the diff", () => {
  const diff = unifiedDiff([{ file: "environments/staging/web.yaml", before: "image: a\n", after: "image: b\n" }]);
  assert.deepEqual(diffStats(diff), { files: 1, added: 1, removed: 1 });
  const body = pullBody({ kind: "promotion", from: "testing", to: "staging", changes: [change], diff, skipStageReason: "hotfix 42", source: ["commit abc"] });
  assert.match(body, /\| web \(`ghcr.io\/acme\/web`\) \| `1111111` \| `abcd123` \| 1\.5\.0 \|/);
  assert.match(body, /Reason given: hotfix 42/);
  assert.match(body, /```diff\n--- a\/environments\/staging\/web.yaml\n\+\+\+ b\/environments\/staging\/web.yaml\n@@ -1,1 \+1,1 @@\n-image: a\n\+image: b\n```/);
  assert.ok(!body.includes(TRUNCATION_MARKER));
});

test("a huge diff is truncated at a line boundary with a marker and the body stays under the limit", () => {
  const before = Array.from({ length: 20_000 }, (_, i) => `line ${i}`).join("\n");
  const after = before.replace(/line/g, "LINE");
  const diff = unifiedDiff([{ file: "environments/staging/big.yaml", before, after }]);
  assert.ok(diff.length > MAX_BODY);
  const body = pullBody({ kind: "promotion", from: "testing", to: "staging", changes: [change], diff });
  assert.ok(body.length < MAX_BODY, `body is ${body.length}`);
  assert.match(body, /\[diff truncated by Baton: \d+ characters, 1 file\(s\), \+20000\/-20000 lines in total/);
  const cut = truncateDiff("aaa\nbbb\nccc\n", 200);
  assert.equal(cut, "aaa\nbbb\nccc\n");
  const short = truncateDiff(`${"x".repeat(50)}\n${"y".repeat(500)}\n`, 300);
  assert.ok(short.startsWith(`${"x".repeat(50)}\n…`), short);
});

test("the linear diff of a digest edit matches a general unified diff", async () => {
  const { createTwoFilesPatch } = await import("diff");
  const before = Array.from({ length: 40 }, (_, i) => `line ${i}`).join("\n") + "\n";
  const after = before.replace("line 2\n", "LINE 2\n").replace("line 20\n", "LINE 20\n").replace("line 39\n", "LINE 39\n");
  const general = createTwoFilesPatch("a/f.yaml", "b/f.yaml", before, after, "", "", { context: 3 }).replace(/^=+\n/, "").replace(/\t$/gm, "");
  assert.equal(unifiedDiff([{ file: "f.yaml", before, after }]), general.slice(general.indexOf("--- ")));
});
