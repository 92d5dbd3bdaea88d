/**
 * Annotations other deployment tools act on that Baton does not: `baton validate` lists every object that
 * carries one, so a Helm hook or an Argo CD sync option is never dropped silently. (Argo CD's sync-wave is
 * honoured: it orders the apply, see src/kube/desired.ts.)
 */
import { formatId, type RenderedObject } from "./objects.js";

/** Annotation (or prefix ending in `/`) → what Baton does instead. */
const NOT_HONOURED: Array<[string, string]> = [
  ["helm.sh/hook", "applied as an ordinary object on every revision, never as a hook, and not deleted afterwards"],
  ["helm.sh/hook-weight", "hooks are not run as hooks; the object is ordered like any other"],
  ["helm.sh/hook-delete-policy", "Baton never deletes an object git still holds"],
  ["helm.sh/resource-policy", "pruning follows baton.dev/prune: disabled, not Helm's keep policy"],
  ["argocd.argoproj.io/hook", "applied as an ordinary object on every revision, never as a sync hook"],
  ["argocd.argoproj.io/hook-delete-policy", "Baton never deletes an object git still holds"],
  ["argocd.argoproj.io/sync-options", "Baton applies every object server-side; Argo CD's per-object options (Replace, Prune=false, …) are not read — use baton.dev/recreate or baton.dev/prune: disabled"],
  ["argocd.argoproj.io/compare-options", "drift is decided by Baton's own comparison"],
  ["kustomize.toolkit.fluxcd.io/", "Flux's per-object settings are not read — use baton.dev/prune: disabled and baton.dev/recreate"],
];

export interface IgnoredAnnotation {
  file: string;
  object: string;
  annotation: string;
  /** What Baton does instead. */
  instead: string;
}

const SYNC_WAVE = "argocd.argoproj.io/sync-wave";

/** The annotations of these objects that Baton does not honour, with what it does instead. Pure. */
export function ignoredAnnotations(objects: RenderedObject[]): IgnoredAnnotation[] {
  const out: IgnoredAnnotation[] = [];
  for (const o of objects) {
    for (const [annotation, value] of Object.entries(o.object.metadata.annotations ?? {})) {
      const rule = NOT_HONOURED.find(([key]) => (key.endsWith("/") ? annotation.startsWith(key) : annotation === key));
      const where = { file: o.source.file, object: formatId(o.id), annotation };
      if (rule) out.push({ ...where, instead: rule[1] });
      else if (annotation === SYNC_WAVE && !/^-?\d+$/.test(value.trim())) out.push({ ...where, instead: `"${value}" is not an integer: the object is applied in wave 0` });
    }
  }
  return out;
}
