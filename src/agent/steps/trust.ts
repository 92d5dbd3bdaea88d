/**
 * Step 2, trust: before anything of the fetched revision is read, the commit itself must be acceptable.
 * With `spec.verify`, the branch head must be signed by one of the keys in the named Secret (as Flux's
 * GitRepository `spec.verify` with `mode: HEAD`). A refused commit fails the run before render: nothing
 * is applied, `lastAppliedRevision` and the running objects stay, and the run is retried (the Secret may
 * gain the key, or a signed commit may follow). Verified commits are remembered per key set, so an idle
 * reconcile spawns nothing.
 */
import { createHash } from "node:crypto";
import { BatonError } from "../../errors.js";
import { parseTrustedKeys, verifyCommitSignature, type TrustedKeys } from "../../git/commit-signature.js";
import type { KubeClient } from "../../kube/client.js";
import type { Fetched, StepContext, Trusted } from "./context.js";

/** revision + key set → signer; bounded, oldest dropped first. */
const verified = new Map<string, string>();
const MAX_REMEMBERED = 2000;

export async function trustStep(ctx: StepContext, fetched: Fetched): Promise<Trusted> {
  const verify = ctx.spec.verify;
  if (!verify) return {};
  const where = `Secret ${ctx.owner.namespace}/${verify.secretRef.name}`;
  const keys = await readTrustedKeys(ctx.agent, ctx.owner.namespace, verify.secretRef.name, where);
  const cacheKey = `${fetched.revision}|${createHash("sha256").update(JSON.stringify(keys)).digest("hex")}`;
  const known = verified.get(cacheKey);
  if (known) return { signer: known };
  const check = await verifyCommitSignature(fetched.dir, fetched.revision, keys, ctx.signal ? { signal: ctx.signal } : {});
  if (!check.verified) {
    throw new BatonError("COMMIT_VERIFICATION_FAILED", `refusing to apply commit ${fetched.revision.slice(0, 12)} of ${ctx.spec.branch}: ${check.detail}`, {
      field: "spec.verify",
      hint: check.reason === "untrusted" ? `sign with a key in ${where}, or add the signer's public key there` : `sign the commit (git commit -S) with a key in ${where}; the last applied revision keeps running`,
    });
  }
  if (verified.size >= MAX_REMEMBERED) verified.delete(verified.keys().next().value ?? "");
  verified.set(cacheKey, check.signer);
  ctx.log.debug({ revision: fetched.revision, action: "trust", signer: check.signer }, "commit signature verified");
  return { signer: check.signer };
}

async function readTrustedKeys(client: KubeClient, namespace: string, name: string, where: string): Promise<TrustedKeys> {
  const secret = await client.get("v1", "Secret", namespace, name);
  if (!secret) throw new BatonError("COMMIT_KEYS_INVALID", `${where} (spec.verify.secretRef) not found`, { field: "spec.verify.secretRef.name", hint: "create it with the trusted public keys, e.g. kubectl create secret generic <name> --from-file=ci.pub" });
  const data = (secret.data ?? {}) as Record<string, string>;
  return parseTrustedKeys(Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, "base64").toString("utf8")])), where);
}
