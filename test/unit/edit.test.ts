// Golden tests: a promotion rewrites only the pin substrings; every other byte of the file stays.
import { test } from "node:test";
import assert from "node:assert/strict";
import { promises as fs } from "node:fs";
import path from "node:path";
import { findPinSites, planEdits } from "../../src/config/edit.js";
import { addImageEntries } from "../../src/config/edit-kustomize.js";
import { canonicalRepository, parseImageRef } from "../../src/config/image-ref.js";
import { BatonError } from "../../src/errors.js";
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

const D = (c: string) => `sha256:${c.repeat(64)}`;
const wantPin = (repository: string, digest: string, tag?: string): PinSet => new Map([[canonicalRepository(repository), { repository, digest, ...(tag ? { tag } : {}) }]]);
const plan1 = (file: string, text: string, want: PinSet) => {
  const plan = planEdits([{ path: file, text }], want);
  return plan.edits[0]?.after ?? text;
};

test("a first pin keeps the tag in both spellings; a moving digest without a tag drops the stale one in both", () => {
  const inline = "spec:\n  containers:\n    - name: web\n      image: ghcr.io/acme/web:1.4.0 # the app\n";
  const first = plan1("d.yaml", inline, wantPin("ghcr.io/acme/web", D("a")));
  assert.equal(first, `spec:\n  containers:\n    - name: web\n      image: ghcr.io/acme/web:1.4.0@${D("a")} # the app\n`);
  assert.equal(plan1("d.yaml", first, wantPin("ghcr.io/acme/web", D("b"))), `spec:\n  containers:\n    - name: web\n      image: ghcr.io/acme/web@${D("b")} # the app\n`);
  assert.equal(plan1("d.yaml", first, wantPin("ghcr.io/acme/web", D("b"), "1.5.0")), `spec:\n  containers:\n    - name: web\n      image: ghcr.io/acme/web:1.5.0@${D("b")} # the app\n`);

  const kustomize = "images:\n  - name: web\n    newName: ghcr.io/acme/web\n    newTag: \"1.4.0\"   # set by CI\nresources: [../../base]\n";
  const pinned = plan1("k/kustomization.yaml", kustomize, wantPin("ghcr.io/acme/web", D("a")));
  assert.equal(pinned, `images:\n  - name: web\n    newName: ghcr.io/acme/web\n    newTag: "1.4.0"   # set by CI\n    digest: ${D("a")}\nresources: [../../base]\n`);
  assert.equal(plan1("k/kustomization.yaml", pinned, wantPin("ghcr.io/acme/web", D("b"))), `images:\n  - name: web\n    newName: ghcr.io/acme/web\n    digest: ${D("b")}\nresources: [../../base]\n`);
  assert.equal(plan1("k/kustomization.yaml", pinned, wantPin("ghcr.io/acme/web", D("b"), "1.10")), `images:\n  - name: web\n    newName: ghcr.io/acme/web\n    newTag: "1.10"   # set by CI\n    digest: ${D("b")}\nresources: [../../base]\n`);
  // Pinning again is a no-op, and a noop keeps the tag.
  assert.equal(planEdits([{ path: "k/kustomization.yaml", text: pinned }], wantPin("ghcr.io/acme/web", D("a"))).noop, true);
});

test("kustomize entries without a digest get one in their own style; flow entries stay flow", () => {
  const flow = "images:\n- {name: nginx, newTag: \"1.27\"}\n";
  assert.equal(plan1("kustomization.yaml", flow, wantPin("docker.io/library/nginx", D("c"))), `images:\n- {name: nginx, newTag: "1.27", digest: ${D("c")}}\n`);
  const stale = `images:\n- {name: nginx, newTag: "1.27", digest: ${D("c")}}\n`;
  assert.equal(plan1("kustomization.yaml", stale, wantPin("nginx", D("d"))), `images:\n- {name: nginx, digest: ${D("d")}}\n`);
  const sites = findPinSites([{ path: "envs/dev/kustomization.yaml", text: flow }]);
  assert.deepEqual(sites.map((s) => [s.kind, s.repository, s.current.tag, s.current.digest, s.line]), [["kustomize", "nginx", "1.27", undefined, 2]]);
});

test("an images: entry is appended for an image set only in a shared base, in the list's style, or as a new list", () => {
  const entry = { name: "ghcr.io/acme/web", tag: "v1", digest: D("e") };
  assert.equal(addImageEntries("resources:\n  - ../../base\n", "k.yaml", [entry]), `resources:\n  - ../../base\nimages:\n  - name: ghcr.io/acme/web\n    newTag: v1\n    digest: ${D("e")}\n`);
  assert.equal(addImageEntries("resources: [../../base]", "k.yaml", [{ name: "web", digest: D("e") }]), `resources: [../../base]\nimages:\n  - name: web\n    digest: ${D("e")}\n`);
  const block = `images:\n- name: api\n  digest: ${D("1")} # api\nresources:\n- ../../base\n`;
  assert.equal(addImageEntries(block, "k.yaml", [entry]), `images:\n- name: api\n  digest: ${D("1")} # api\n- name: ghcr.io/acme/web\n  newTag: v1\n  digest: ${D("e")}\nresources:\n- ../../base\n`);
  assert.equal(addImageEntries(`images: [{name: api, digest: ${D("1")}}]\n`, "k.yaml", [entry]), `images: [{name: api, digest: ${D("1")}}, {name: ghcr.io/acme/web, newTag: v1, digest: ${D("e")}}]\n`);
  assert.throws(() => addImageEntries("images: []\n", "k.yaml", [entry]), (e: unknown) => e instanceof BatonError && e.code === "KUSTOMIZE_UNSUPPORTED" && e.file === "k.yaml");
});

test("Helm values: a tag-only promotion writes the tag alone (never `2.1@`), a digest value it empties is `\"\"`", () => {
  const defaults = new Map([["image", "ghcr.io/acme/web"], ["proxy.image", "ghcr.io/acme/proxy"]]);
  const tagOnly = (repository: string, tag: string): PinSet => new Map([[canonicalRepository(repository), { repository, tag }]]);
  const values = "# dev\nimage:\n  tag: \"1.5.0\"\nproxy:\n  image:\n    tag: \"2.0\" # proxy\n";
  const plan = planEdits([{ path: "env/values.yaml", text: values }], tagOnly("ghcr.io/acme/proxy", "2.1"), { valuesDefaults: defaults });
  assert.equal(plan.edits[0]?.after, "# dev\nimage:\n  tag: \"1.5.0\"\nproxy:\n  image:\n    tag: \"2.1\" # proxy\n");
  const plain = planEdits([{ path: "env/values.yaml", text: "image:\n  tag: 1.4.0\n" }], tagOnly("ghcr.io/acme/web", "1.10"), { valuesDefaults: defaults });
  assert.equal(plain.edits[0]?.after, "image:\n  tag: \"1.10\"\n");
  const pinned = `image:\n  tag: "1.4.0@${D("a")}"\n`;
  assert.equal(plan1Values(pinned, tagOnly("ghcr.io/acme/web", "1.5.0"), defaults), "image:\n  tag: \"1.5.0\"\n");
  const withDigest = `image:\n  repository: ghcr.io/acme/web\n  tag: "1.4.0"\n  digest: ${D("a")} # pinned\n`;
  assert.equal(plan1Values(withDigest, tagOnly("ghcr.io/acme/web", "1.5.0"), defaults), "image:\n  repository: ghcr.io/acme/web\n  tag: \"1.5.0\"\n  digest: \"\" # pinned\n");
  assert.equal(planEdits([{ path: "env/values.yaml", text: "image:\n  tag: \"1.5.0\"\n" }], tagOnly("ghcr.io/acme/web", "1.5.0"), { valuesDefaults: defaults }).noop, true);
});

function plan1Values(text: string, want: PinSet, defaults: ReadonlyMap<string, string>): string {
  return planEdits([{ path: "env/values.yaml", text }], want, { valuesDefaults: defaults }).edits[0]?.after ?? text;
}

test("Helm values: image paths declared in baton.yaml are pin sites, edited in place; a convention reading the same scalar is not a second site", () => {
  const declared = [{ path: "app.container.img" }, { repository: "ghcr.io/acme/proxy", tagPath: "sidecars[0].version" }, { repository: "ghcr.io/acme/db", tagPath: "db.image.tag", digestPath: "db.sha" }];
  const values = "app:\n  container:\n    img: 'ghcr.io/acme/web:1.4.0' # the app\nsidecars:\n  - name: proxy\n    version: \"2.0\"\ndb:\n  image: {repository: ghcr.io/acme/db, tag: \"16\"}\n  sha: \"\"\nmissing: {}\n";
  const sites = findPinSites([{ path: "env/values.yaml", text: values }], { declaredImages: [...declared, { path: "not.there" }] });
  assert.deepEqual(sites.map((s) => `${s.repository} ${s.current.tag} ${s.line}`), ["ghcr.io/acme/web 1.4.0 3", "ghcr.io/acme/proxy 2.0 6", "ghcr.io/acme/db 16 8"]);
  const pins: PinSet = new Map([["ghcr.io/acme/web", { repository: "ghcr.io/acme/web", digest: D("a") }], ["ghcr.io/acme/proxy", { repository: "ghcr.io/acme/proxy", digest: D("b"), tag: "2.1" }], ["ghcr.io/acme/db", { repository: "ghcr.io/acme/db", digest: D("c") }]]);
  const after = planEdits([{ path: "env/values.yaml", text: values }], pins, { declaredImages: declared }).edits[0]?.after;
  assert.equal(after, values.replace("'ghcr.io/acme/web:1.4.0'", `'ghcr.io/acme/web:1.4.0@${D("a")}'`).replace("version: \"2.0\"", `version: "2.1@${D("b")}"`).replace("sha: \"\"", `sha: "${D("c")}"`));
  assert.equal(planEdits([{ path: "env/values.yaml", text: after ?? "" }], pins, { declaredImages: declared }).noop, true);
});
