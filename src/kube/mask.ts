/**
 * Secret values never reach a terminal: `baton render` and `baton diff` print Secrets with their
 * `data`/`stringData` values masked, the way `kubectl diff` does (`***`, or `*** (before)` / `*** (after)`
 * where a value changes, so a diff still shows *that* a key changed). Pure.
 */
const MASK = "***";
const SECRET_FIELDS = ["data", "stringData"] as const;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

export function isSecret(obj: unknown): boolean {
  return isObj(obj) && obj.kind === "Secret" && obj.apiVersion === "v1";
}

/** A copy of a Secret with every value masked; other objects are returned as they are. */
export function maskSecret<T>(obj: T): T {
  if (!isSecret(obj)) return obj;
  const out: Obj = { ...(obj as Obj) };
  for (const field of SECRET_FIELDS) {
    const values = out[field];
    if (isObj(values)) out[field] = Object.fromEntries(Object.keys(values).map((k) => [k, MASK]));
  }
  return out as T;
}

/** Masks a live/desired pair of one Secret, marking the keys whose values differ. */
export function maskSecretPair<A, B>(before: A, after: B): [A, B] {
  if (!isSecret(before) && !isSecret(after)) return [before, after];
  const b: Obj | undefined = isObj(before) ? { ...before } : undefined;
  const a: Obj | undefined = isObj(after) ? { ...after } : undefined;
  for (const field of SECRET_FIELDS) {
    const bv = isObj(b?.[field]) ? (b?.[field] as Obj) : undefined;
    const av = isObj(a?.[field]) ? (a?.[field] as Obj) : undefined;
    const mask = (mine: Obj | undefined, theirs: Obj | undefined, label: string): Obj | undefined => mine && Object.fromEntries(Object.entries(mine).map(([k, v]) => [
      k, theirs && k in theirs && JSON.stringify(theirs[k]) !== JSON.stringify(v) ? `${MASK} (${label})` : MASK,
    ]));
    if (b && bv) b[field] = mask(bv, av, "before");
    if (a && av) a[field] = mask(av, bv, "after");
  }
  return [(b ?? before) as A, (a ?? after) as B];
}
