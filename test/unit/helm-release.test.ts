// Flux HelmReleases: the images in spec.values are pins (read from the rendered object, edited in the file).
import { test } from "node:test";
import assert from "node:assert/strict";
import { parse } from "yaml";
import { planEdits } from "../../src/config/edit.js";
import { helmReleaseDefaults } from "../../src/config/helm-release.js";
import { canonicalRepository } from "../../src/config/image-ref.js";
import { readPins, unmanagedImages, type PinSet } from "../../src/config/pins.js";
import type { KubeObject, RenderedObject } from "../../src/config/objects.js";

const D = (c: string) => `sha256:${c.repeat(64)}`;
const rendered = (text: string): RenderedObject => {
  const object = parse(text) as KubeObject;
  return { id: { group: "helm.toolkit.fluxcd.io", version: "v2", kind: object.kind, name: object.metadata.name, namespace: "podinfo" }, object, source: { file: "apps/staging (kustomize build)", line: 1 } };
};
const want = (repository: string, digest: string, tag?: string): PinSet => new Map([[canonicalRepository(repository), { repository, digest, ...(tag ? { tag } : {}) }]]);

const release = `apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: podinfo, namespace: podinfo}
spec:
  chart: {spec: {chart: podinfo, version: 6.5.0, sourceRef: {kind: HelmRepository, name: podinfo}}}
  values:
    image:
      repository: ghcr.io/stefanprodan/podinfo
      tag: 6.5.0 # staging
    redis:
      enabled: true
      image: {registry: docker.io, repository: library/redis, tag: "7.0", digest: "${D("f")}"}
    sidecars:
      - {name: log, image: "ghcr.io/acme/log:1.2"}
    containers: [{name: x, image: "ghcr.io/acme/extra:1"}]
`;

test("a HelmRelease's values images are pins: maps (Bitnami registry too), lists, image strings; each named by its field", () => {
  const { pins, problems } = readPins([rendered(release)], { requireDigests: true });
  assert.deepEqual([...pins.values()].map((p) => `${p.repository}:${p.tag ?? "-"}@${p.digest ?? "-"}`), [
    "ghcr.io/stefanprodan/podinfo:6.5.0@-", `docker.io/library/redis:7.0@${D("f")}`, "ghcr.io/acme/log:1.2@-", "ghcr.io/acme/extra:1@-",
  ]);
  assert.deepEqual(problems.map((p) => `${p.code} ${p.field}`), ["PIN_NO_DIGEST spec.values.image", "PIN_NO_DIGEST spec.values.sidecars[].image", "PIN_NO_DIGEST spec.values.containers[].image"]);
  assert.deepEqual(unmanagedImages(rendered(release)), [], "values images are managed, not listed as outside container lists");
  // Another group's HelmRelease kind is not Flux's: its values are read as any object's (only container lists).
  assert.deepEqual([...readPins([rendered(release.replace("helm.toolkit.fluxcd.io/v2", "example.com/v1"))], { requireDigests: true }).pins.keys()], ["ghcr.io/acme/extra"]);
});

test("pin and promote edit only the values scalars of a HelmRelease, in a whole object or in an overlay's patch that sets only the tag", () => {
  const whole = planEdits([{ path: "apps/staging/release.yaml", text: release }], want("ghcr.io/stefanprodan/podinfo", D("a")));
  assert.equal(whole.edits[0]?.after, release.replace("tag: 6.5.0 # staging", `tag: "6.5.0@${D("a")}" # staging`));
  const redis = planEdits([{ path: "apps/staging/release.yaml", text: release }], want("redis", D("b"), "7.2"));
  assert.equal(redis.edits[0]?.after, release.replace(`tag: "7.0", digest: "${D("f")}"`, `tag: "7.2", digest: "${D("b")}"`));
  const log = planEdits([{ path: "apps/staging/release.yaml", text: release }], want("ghcr.io/acme/log", D("c")));
  assert.equal(log.edits[0]?.after, release.replace("ghcr.io/acme/log:1.2", `ghcr.io/acme/log:1.2@${D("c")}`));
  const extra = planEdits([{ path: "apps/staging/release.yaml", text: release }], want("ghcr.io/acme/extra", D("e")));
  assert.deepEqual(extra.changes.map((c) => c.sites), [[{ file: "apps/staging/release.yaml", line: 15 }]], "one site, not one per reading");

  const patch = "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: podinfo\nspec:\n  values:\n    image:\n      tag: \"6.6.0\"\n";
  const defaults = helmReleaseDefaults([rendered(release)]);
  const patched = planEdits([{ path: "apps/production/podinfo-values.yaml", text: patch }], want("ghcr.io/stefanprodan/podinfo", D("d")), { helmReleaseDefaults: defaults });
  assert.equal(patched.edits[0]?.after, patch.replace("tag: \"6.6.0\"", `tag: "6.6.0@${D("d")}"`));
  const otherRelease = planEdits([{ path: "p.yaml", text: patch.replace("name: podinfo", "name: other") }], want("ghcr.io/stefanprodan/podinfo", D("d")), { helmReleaseDefaults: defaults });
  assert.deepEqual(otherRelease.missing, ["ghcr.io/stefanprodan/podinfo"], "a patch of another release has no repository to read");
});
