/**
 * A JSON merge patch (RFC 7386) that turns `before` into `after` (pure). A merge patch only ever adds and
 * overwrites: a field that is gone from `after` must be sent as an explicit null, at any depth, or the
 * API server keeps the old value (e.g. status.release after a strategy is removed, or release.step after
 * a release completed). Arrays and scalars are replaced whole, as RFC 7386 does.
 *
 * Hand-written rather than a dependency: it is the RFC's algorithm in reverse, fifteen lines, and the npm
 * packages that do it carry more than it needs.
 */
type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

export function mergePatchFrom(before: unknown, after: Record<string, unknown>): Record<string, Json> {
  const patch: Record<string, Json> = {};
  const old = isPlainObject(before) ? before : {};
  for (const key of Object.keys(old)) {
    if (after[key] === undefined) patch[key] = null;
  }
  for (const [key, value] of Object.entries(after)) {
    if (value === undefined) continue;
    patch[key] = isPlainObject(value) && isPlainObject(old[key]) ? mergePatchFrom(old[key], value) : (value as Json);
  }
  return patch;
}
