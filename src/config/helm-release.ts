/**
 * Flux HelmReleases (`helm.toolkit.fluxcd.io`): Baton applies them as they are and Flux's helm-controller
 * renders the chart, so what runs is decided by the images in `spec.values`. Those are read by the same
 * conventions as Helm environments' values files (see edit-values.ts) and are pins like any container
 * image: validated, pinned, promoted, listed by history and status.
 */
import { isMap, parseDocument, stringify, type Document, type YAMLMap } from "yaml";
import { formatImageRef } from "./image-ref.js";
import { valuesImages } from "./edit-values.js";
import type { KubeObject, RenderedObject } from "./objects.js";

export function isHelmRelease(object: { apiVersion?: unknown; kind?: unknown }): boolean {
  return object.kind === "HelmRelease" && typeof object.apiVersion === "string" && object.apiVersion.startsWith("helm.toolkit.fluxcd.io/");
}

export interface ReleaseImage {
  /** The reference the values name, as `repo[:tag][@digest]`. */
  image: string;
  /** Where, e.g. `spec.values.image` or `spec.values.workers[].image`. */
  field: string;
  /** The path inside the values, e.g. `image`. */
  path: string;
  repository: string;
}

function values(object: KubeObject): Record<string, unknown> | undefined {
  const spec = object.spec as { values?: unknown } | undefined;
  const v = spec?.values;
  return v !== null && typeof v === "object" && !Array.isArray(v) ? v as Record<string, unknown> : undefined;
}

/**
 * The images of a rendered HelmRelease's `spec.values`. The values are printed as YAML and read back so
 * that exactly the rules of values files apply (one copy of the conventions, not a second one for objects).
 */
export function helmReleaseImages(object: KubeObject): ReleaseImage[] {
  const v = values(object);
  if (!isHelmRelease(object) || !v) return [];
  return valuesImages(parseDocument(stringify(v), { uniqueKeys: false })).map((i) => ({
    image: formatImageRef(i.current), field: `spec.values.${i.path}`, path: i.path, repository: i.repository,
  }));
}

/** The `spec.values` mapping of a HelmRelease document in a file (a whole object or a kustomize patch of one). */
export function helmReleaseValuesNode(doc: Document.Parsed): YAMLMap | undefined {
  if (!isHelmRelease({ apiVersion: doc.get("apiVersion"), kind: doc.get("kind") })) return undefined;
  const node = doc.getIn(["spec", "values"], true);
  return isMap(node) ? node : undefined;
}

/** The name a HelmRelease document carries (a patch names the release it changes). */
export function helmReleaseName(doc: Document.Parsed): string | undefined {
  const name = doc.getIn(["metadata", "name"]);
  return typeof name === "string" ? name : undefined;
}

/**
 * name → (values path → repository) of the rendered HelmReleases: a patch in an overlay that sets only
 * `image.tag` takes its repository from the release it patches, as Flux merges them.
 */
export function helmReleaseDefaults(objects: RenderedObject[]): Map<string, Map<string, string>> {
  const out = new Map<string, Map<string, string>>();
  for (const o of objects) {
    const images = helmReleaseImages(o.object);
    if (images.length > 0) out.set(o.object.metadata.name, new Map(images.map((i) => [i.path, i.repository])));
  }
  return out;
}
