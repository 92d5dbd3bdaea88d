/**
 * Rejected digests live in git, in `.baton/rejected.yaml`: `<env>: [{repository, digest, reason, at}]`.
 * A rollback adds the digests it reverted (in the same commit), `baton unreject` removes one, and
 * `promote` refuses to move a rejected digest into that environment. Pure parse/format/update here.
 */
import { parse, stringify } from "yaml";
import { z } from "zod";
import { BatonError } from "../errors.js";
import { canonicalRepository, shortDigest } from "../config/image-ref.js";
import type { Pin } from "../config/pins.js";

export const REJECTED_FILE = ".baton/rejected.yaml";

const EntrySchema = z.object({
  repository: z.string().min(1),
  // Hand-edited entries may spell the digest in capitals; registries' digests are lowercase hex.
  digest: z.string().regex(/^sha256:[a-f0-9]{64}$/i, "must be sha256:<64 hex>").transform((d) => d.toLowerCase()),
  reason: z.string().default(""),
  at: z.string().default(""),
});
const FileSchema = z.record(z.string(), z.array(EntrySchema)).nullable();

export type RejectedEntry = z.infer<typeof EntrySchema>;

/**
 * The identity a rejection matches on: the image however it is spelled (`nginx`, `docker.io/library/nginx`,
 * `Docker.io/library/nginx:1.25`; a tag or digest written into the repository is ignored) and the digest in
 * either case. A rejection that a different spelling slips past is no rejection.
 */
export function rejectionKey(image: { repository: string; digest?: string | undefined }): string {
  const bare = image.repository.trim().replace(/@.*$/, "").replace(/:[^/:]*$/, "").toLowerCase();
  return `${canonicalRepository(bare)}@${(image.digest ?? "").toLowerCase()}`;
}

export const sameRejection = (a: { repository: string; digest?: string | undefined }, b: { repository: string; digest?: string | undefined }): boolean => rejectionKey(a) === rejectionKey(b);
export type RejectedList = Record<string, RejectedEntry[]>;

export function parseRejected(text: string | undefined): RejectedList {
  if (text === undefined || text.trim() === "") return {};
  let value: unknown;
  try {
    value = parse(text, { maxAliasCount: 0 });
  } catch (e) {
    throw new BatonError("YAML_SYNTAX", `cannot parse ${REJECTED_FILE}: ${e instanceof Error ? e.message : String(e)}`, { file: REJECTED_FILE, hint: "fix the YAML or restore it from git history" });
  }
  const result = FileSchema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new BatonError("PIPELINE_SCHEMA", `${REJECTED_FILE} ${issue?.path.join(".") ?? ""} ${issue?.message ?? "is invalid"}`, {
      file: REJECTED_FILE, field: issue?.path.join("."), hint: "expected `<env>: [{repository, digest, reason, at}]`",
    });
  }
  return result.data ?? {};
}

export function formatRejected(list: RejectedList): string {
  const clean: RejectedList = {};
  for (const env of Object.keys(list).sort()) if ((list[env] ?? []).length > 0) clean[env] = list[env] ?? [];
  return `# Digests rolled back per environment; baton promote refuses them until \`baton unreject\`.\n${Object.keys(clean).length ? stringify(clean) : "{}\n"}`;
}

export function addRejected(list: RejectedList, env: string, entries: RejectedEntry[]): RejectedList {
  const current = [...(list[env] ?? [])];
  for (const e of entries) if (!current.some((c) => sameRejection(c, e))) current.push(e);
  return { ...list, [env]: current };
}

export function removeRejected(list: RejectedList, env: string, repository: string, digest: string): RejectedList {
  const current = list[env] ?? [];
  const next = current.filter((c) => !sameRejection(c, { repository, digest }));
  if (next.length === current.length) {
    throw new BatonError("PIN_NOT_FOUND", `${repository}@${digest} is not rejected in ${env}`, {
      file: REJECTED_FILE, hint: `rejected there: ${current.map((c) => `${c.repository}@${shortDigest(c.digest)}`).join(", ") || "(none)"}`,
    });
  }
  return { ...list, [env]: next };
}

/** Throws PROMOTE_REJECTED_DIGEST if any pin is rejected in `env`. */
export function assertNotRejected(list: RejectedList, env: string, pins: Pin[]): void {
  for (const pin of pins) {
    const hit = (list[env] ?? []).find((e) => pin.digest !== undefined && sameRejection(e, pin));
    if (hit) {
      throw new BatonError("PROMOTE_REJECTED_DIGEST", `${pin.repository}@${shortDigest(pin.digest)} was rolled back in ${env}${hit.reason ? ` (${hit.reason})` : ""} and is rejected there`, {
        file: REJECTED_FILE, field: env, hint: `promote a newer build, or run: baton unreject ${env} ${pin.repository}@${pin.digest}`,
      });
    }
  }
}
