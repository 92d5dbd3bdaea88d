/**
 * Step 2, trust: before anything of the fetched revision is read, the commit itself must be acceptable.
 * With `spec.verify`, the branch head must be signed by one of the keys in the named Secret (as Flux's
 * GitRepository `spec.verify` with `mode: HEAD`). And the head must descend from the last applied
 * revision: a branch whose history was rewritten (force-pushed) is refused unless
 * `spec.allowNonFastForward` says so (`git revert` keeps history, so rollbacks pass). A refused commit
 * fails the run before render: nothing is applied, `lastAppliedRevision` and the running objects stay, and
 * the run is retried (the Secret may gain the key, the branch may be restored). Answers are remembered
 * (per key set; per commit pair), so an idle reconcile spawns and fetches nothing.
 */
import { createHash } from "node:crypto";
import { BatonError } from "../../errors.js";
import { parseTrustedKeys, verifyCommitSignature, type TrustedKeys } from "../../git/commit-signature.js";
import type { Reach } from "../../git/ancestry.js";
import { DEEPEN_STEPS } from "../../git/sources.js";
import type { KubeClient } from "../../kube/client.js";
import type { Fetched, StepContext, Trusted } from "./context.js";

/** revision + key set → signer; bounded, oldest dropped first. */
const verified = new Map<string, string>();
/** source + head + last applied → how they relate (fixed for a pair of commits); bounded likewise. */
const ancestry = new Map<string, Reach>();
const MAX_REMEMBERED = 2000;

export async function trustStep(ctx: StepContext, fetched: Fetched): Promise<Trusted> {
  const signer = await checkSignature(ctx, fetched);
  await checkFastForward(ctx, fetched);
  return signer ? { signer } : {};
}

async function checkFastForward(ctx: StepContext, fetched: Fetched): Promise<void> {
  const last = ctx.env.status?.lastAppliedRevision;
  if (!last || last === fetched.revision || ctx.spec.allowNonFastForward) return;
  const source = { url: ctx.spec.url, branch: ctx.spec.branch, ...(fetched.credentials.git ? { auth: fetched.credentials.git } : {}) };
  const key = `${ctx.spec.url}|${ctx.spec.branch}|${fetched.revision}|${last}`;
  let reach = ancestry.get(key);
  if (!reach) {
    reach = await ctx.sources.descends(source, fetched.revision, last, ctx.git);
    remember(ancestry, key, reach);
  }
  if (reach === "descends") return;
  const why = reach === "diverged" ? `it does not descend from the last applied revision ${last.slice(0, 12)}` : `the last applied revision ${last.slice(0, 12)} is not among the ${DEEPEN_STEPS.reduce((a, b) => a + b, 1)} commits before it`;
  throw new BatonError("NON_FAST_FORWARD", `refusing to apply commit ${fetched.revision.slice(0, 12)} of ${ctx.spec.branch}: ${why} (the branch history was rewritten, e.g. by a force push)`, {
    field: "spec.branch",
    hint: `restore the branch (push ${last.slice(0, 12)}'s history back; git revert keeps history), or set spec.allowNonFastForward: true to apply the rewritten history`,
  });
}

/** The signer of the head commit when spec.verify asks for one. */
async function checkSignature(ctx: StepContext, fetched: Fetched): Promise<string | undefined> {
  const verify = ctx.spec.verify;
  if (!verify) return undefined;
  const where = `Secret ${ctx.owner.namespace}/${verify.secretRef.name}`;
  const keys = await readTrustedKeys(ctx.agent, ctx.owner.namespace, verify.secretRef.name, where);
  const cacheKey = `${fetched.revision}|${createHash("sha256").update(JSON.stringify(keys)).digest("hex")}`;
  const known = verified.get(cacheKey);
  if (known) return known;
  const check = await verifyCommitSignature(fetched.dir, fetched.revision, keys, ctx.signal ? { signal: ctx.signal } : {});
  if (!check.verified) {
    throw new BatonError("COMMIT_VERIFICATION_FAILED", `refusing to apply commit ${fetched.revision.slice(0, 12)} of ${ctx.spec.branch}: ${check.detail}`, {
      field: "spec.verify",
      hint: check.reason === "untrusted" ? `sign with a key in ${where}, or add the signer's public key there` : `sign the commit (git commit -S) with a key in ${where}; the last applied revision keeps running`,
    });
  }
  remember(verified, cacheKey, check.signer);
  ctx.log.debug({ revision: fetched.revision, action: "trust", signer: check.signer }, "commit signature verified");
  return check.signer;
}

function remember<V>(map: Map<string, V>, key: string, value: V): void {
  if (map.size >= MAX_REMEMBERED) map.delete(map.keys().next().value ?? "");
  map.set(key, value);
}

async function readTrustedKeys(client: KubeClient, namespace: string, name: string, where: string): Promise<TrustedKeys> {
  const secret = await client.get("v1", "Secret", namespace, name);
  if (!secret) throw new BatonError("COMMIT_KEYS_INVALID", `${where} (spec.verify.secretRef) not found`, { field: "spec.verify.secretRef.name", hint: "create it with the trusted public keys, e.g. kubectl create secret generic <name> --from-file=ci.pub" });
  const data = (secret.data ?? {}) as Record<string, string>;
  return parseTrustedKeys(Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, "base64").toString("utf8")])), where);
}
