/**
 * Pins: which image repository runs at which digest in an environment.
 * Read from rendered objects (every container list in any object: Pods, workload templates, CronJob
 * job templates, and CRDs that embed pod specs) and checked against the environment's digest policy.
 */
import { BatonError } from "../errors.js";
import { canonicalRepository, parseImageRef, type ImageRef } from "./image-ref.js";
import { formatId, type RenderedObject } from "./objects.js";
import { helmReleaseImages, isHelmRelease } from "./helm-release.js";

export const CONTAINER_LIST_KEYS = new Set(["containers", "initContainers", "ephemeralContainers"]);

export interface ImageUse {
  /** The reference as written. */
  image: string;
  /** JSON-ish path inside the object, e.g. `spec.template.spec.containers[0].image`. */
  field: string;
  object: RenderedObject;
  /** Set for an image in a Flux HelmRelease's `spec.values`: the release's name. */
  helmRelease?: string;
}

/** Every `image:` string in the object: `managed` inside a container list, the others not. */
function walkImages(object: RenderedObject): { managed: ImageUse[]; unmanaged: ImageUse[] } {
  const managed: ImageUse[] = [];
  const unmanaged: ImageUse[] = [];
  const visit = (value: unknown, field: string, inContainerList: boolean): void => {
    if (Array.isArray(value)) {
      value.forEach((item, i) => visit(item, `${field}[${i}]`, inContainerList));
    } else if (value !== null && typeof value === "object") {
      for (const [key, child] of Object.entries(value)) {
        const childField = field ? `${field}.${key}` : key;
        if (key === "image" && typeof child === "string") (inContainerList ? managed : unmanaged).push({ image: child, field: childField, object });
        else if (childField === "spec.values" && release) continue; // read by the values conventions below
        else visit(child, childField, CONTAINER_LIST_KEYS.has(key) && Array.isArray(child));
      }
    }
  };
  const release = isHelmRelease(object.object);
  visit(object.object, "", false);
  if (release) managed.push(...helmReleaseImages(object.object).map((i) => ({ image: i.image, field: i.field, object, helmRelease: object.object.metadata.name })));
  return { managed, unmanaged };
}

/** Every `image:` inside a container list anywhere in the object, and the images of a Flux HelmRelease's values. */
export function imageUses(object: RenderedObject): ImageUse[] {
  return walkImages(object).managed;
}

/**
 * `image:` strings outside container lists (Tekton steps, an operator's `spec.image`, …): Baton neither
 * checks nor promotes them, and says so instead of dropping them silently.
 */
export function unmanagedImages(object: RenderedObject): ImageUse[] {
  return walkImages(object).unmanaged;
}

export interface Pin {
  repository: string;
  digest?: string;
  tag?: string;
}

/** canonical repository (canonicalRepository) → pin, whose `repository` is spelled as written. */
export type PinSet = Map<string, Pin>;

/**
 * Checks every image against the digest policy and returns the environment's pin set.
 * Collects every problem instead of stopping at the first.
 */
export function readPins(objects: RenderedObject[], policy: { requireDigests: boolean }): { pins: PinSet; problems: BatonError[] } {
  const pins: PinSet = new Map();
  const problems: BatonError[] = [];
  for (const object of objects) {
    for (const use of imageUses(object)) {
      const where = { file: object.source.file, field: use.field, object: formatId(object.id) };
      const parsed = parseImageRef(use.image);
      if (!parsed.ok) {
        problems.push(new BatonError(parsed.problem === "bad-digest" ? "PIN_BAD_DIGEST" : "PIN_BAD_REFERENCE", `image "${use.image}": ${parsed.reason}`, {
          ...where, hint: "write repo@sha256:<64 hex>, e.g. ghcr.io/acme/web@sha256:…",
        }));
        continue;
      }
      const ref: ImageRef = parsed.ref;
      if (policy.requireDigests && !ref.digest) {
        const latest = ref.tag === undefined || ref.tag === "latest";
        problems.push(new BatonError(latest ? "PIN_LATEST" : "PIN_NO_DIGEST", latest
          ? `image "${use.image}" floats on latest`
          : `image "${use.image}" is pinned by tag only`, {
          ...where, hint: `pin it by digest: baton pin <env> ${ref.repository}=${ref.repository}@sha256:<digest> (or set requireDigests: false)`,
        }));
      }
      // `nginx` and `docker.io/library/nginx` are one image: two digests for it are a conflict.
      const key = canonicalRepository(ref.repository);
      const existing = pins.get(key);
      if (existing && existing.digest !== ref.digest) {
        const spelled = existing.repository === ref.repository ? ref.repository : `${ref.repository} (also written ${existing.repository})`;
        problems.push(new BatonError("PIN_CONFLICT", `image ${spelled} is pinned at two digests (${existing.digest ?? existing.tag ?? "untagged"} and ${ref.digest ?? ref.tag ?? "untagged"})`, {
          ...where, hint: "pin one digest per image and environment so promotions are unambiguous",
        }));
        continue;
      }
      if (!existing) {
        const pin: Pin = { repository: ref.repository };
        if (ref.digest) pin.digest = ref.digest;
        if (ref.tag) pin.tag = ref.tag;
        pins.set(key, pin);
      }
    }
  }
  return { pins, problems };
}

/** A PinSet from pins, keyed by canonical repository. */
export function pinSet(pins: Iterable<Pin>): PinSet {
  return new Map([...pins].map((p) => [canonicalRepository(p.repository), p]));
}

export function pinsToRecord(pins: PinSet): Record<string, string> {
  return Object.fromEntries([...pins.values()].sort((a, b) => a.repository.localeCompare(b.repository)).map((p) => [p.repository, p.digest ?? p.tag ?? ""]));
}
