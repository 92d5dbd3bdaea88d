/**
 * Step 3, verify: with `verify` in baton.yaml, every image the render pins must carry a cosign signature by
 * one of the listed public keys (read from the same revision) before anything is planned or applied. An
 * unsigned or wrongly signed digest fails the run: nothing is applied, the previous revision keeps running,
 * and the Environment says why (Ready=False, SignatureVerificationFailed; retried, since a signature may be
 * pushed after its image). Verified digests are remembered per key set, so an idle reconcile asks nothing.
 */
import { createHash } from "node:crypto";
import { BatonError } from "../../errors.js";
import { describeSignature, loadKeys, verifyImage } from "../../registry/signature.js";
import type { Fetched, Rendered, StepContext, Verified } from "./context.js";

/** repository@digest + key fingerprints → the key that verified it; bounded, oldest dropped first. */
const verified = new Map<string, string>();
const MAX_REMEMBERED = 2000;

export async function verifyStep(ctx: StepContext, fetched: Fetched, rendered: Rendered): Promise<Verified> {
  const spec = rendered.envSpec.verify;
  if (!spec) return { images: [] };
  const keys = await loadKeys(fetched.dir, spec.keys, "verify.keys");
  const fingerprint = createHash("sha256").update(keys.map((k) => k.key.export({ type: "spki", format: "der" }).toString("base64")).join(",")).digest("hex");
  const images: Verified["images"] = [];
  for (const pin of rendered.render.pins.values()) {
    if (!pin.digest) {
      throw new BatonError("SIGNATURE_MISSING", `${pin.repository} is not pinned by digest, so its signature cannot be checked`, { file: ctx.spec.path, hint: "pin the image by digest (baton pin)" });
    }
    const cacheKey = `${pin.repository}@${pin.digest}|${fingerprint}`;
    const known = verified.get(cacheKey);
    if (known) {
      images.push({ repository: pin.repository, digest: pin.digest, key: known });
      continue;
    }
    const result = await verifyImage(ctx.registry, pin.repository, pin.digest, keys);
    if (result.status !== "verified") {
      throw new BatonError(result.status === "missing" ? "SIGNATURE_MISSING" : "SIGNATURE_INVALID", `refusing to apply ${pin.repository}@${pin.digest}: ${describeSignature(result)}`, {
        file: ctx.spec.path, hint: "sign the image with a key listed in baton.yaml verify.keys (cosign sign --key), or pin a signed digest",
      });
    }
    if (verified.size >= MAX_REMEMBERED) verified.delete(verified.keys().next().value ?? "");
    verified.set(cacheKey, result.key);
    images.push({ repository: pin.repository, digest: pin.digest, key: result.key });
  }
  ctx.log.debug({ revision: fetched.revision, action: "verify", images: images.length }, "image signatures verified");
  return { images };
}
