/**
 * Cosign image signatures checked against public keys, offline from Sigstore: `cosign sign --key` stores,
 * at the tag `sha256-<hex>.sig` of the image's repository, a manifest whose layers are simple-signing
 * payloads (JSON naming the signed digest) with the signature in the `dev.cosignproject.cosign/signature`
 * annotation. A digest is verified when one payload names exactly that digest and its signature verifies
 * with one of the keys. Keys are PEM public keys kept in the config repo (they are public), named in
 * baton.yaml's `verify.keys`; keyless (Fulcio/Rekor) bundles are not supported.
 */
import { createPublicKey, verify as verifySignature, type KeyObject } from "node:crypto";
import { promises as fs } from "node:fs";
import { z } from "zod";
import { BatonError } from "../errors.js";
import { readLimited, resolveInRepo } from "../config/files.js";
import type { RegistryClient } from "./client.js";

export const SIMPLE_SIGNING = "application/vnd.dev.cosign.simplesigning.v1+json";
export const SIGNATURE_ANNOTATION = "dev.cosignproject.cosign/signature";

export interface NamedKey {
  /** Where the key came from (repo path), shown in results. */
  name: string;
  key: KeyObject;
}

export type SignatureResult =
  | { status: "verified"; key: string }
  | { status: "missing"; reason: string }
  | { status: "invalid"; reason: string };

const Payload = z.object({
  critical: z.object({
    identity: z.object({ "docker-reference": z.string() }).passthrough().optional(),
    image: z.object({ "docker-manifest-digest": z.string() }).passthrough(),
    type: z.literal("cosign container image signature"),
  }).passthrough(),
}).passthrough();

/** The signature tag cosign uses for a digest: `sha256:abc…` → `sha256-abc….sig`. */
export function signatureTag(digest: string): string {
  return `${digest.replace(":", "-")}.sig`;
}

/** Parses a PEM public key; `name` is its repo path for errors. */
export function parsePublicKey(pem: string, name: string): NamedKey {
  try {
    const key = createPublicKey(pem);
    if (key.asymmetricKeyType !== "ec" && key.asymmetricKeyType !== "ed25519" && key.asymmetricKeyType !== "rsa") throw new Error(`unsupported key type ${key.asymmetricKeyType}`);
    return { name, key };
  } catch (e) {
    throw new BatonError("SIGNATURE_KEY_INVALID", `${name} is not a PEM public key (${e instanceof Error ? e.message : String(e)})`, { file: name, hint: "use the cosign.pub written by `cosign generate-key-pair` (an ECDSA P-256 public key)" });
  }
}

/** The keys a pipeline environment's `verify.keys` names, read from the repo. */
export async function loadKeys(repoDir: string, paths: string[], field: string): Promise<NamedKey[]> {
  const keys: NamedKey[] = [];
  for (const [i, rel] of paths.entries()) {
    const file = resolveInRepo(repoDir, rel, { file: "baton.yaml", field: `${field}[${i}]` });
    try {
      await fs.access(file);
    } catch {
      throw new BatonError("SIGNATURE_KEY_INVALID", `the key file ${rel} does not exist`, { file: "baton.yaml", field: `${field}[${i}]`, hint: "commit the public key (cosign.pub) to the config repo" });
    }
    keys.push(parsePublicKey(await readLimited(repoDir, file), rel));
  }
  return keys;
}

/** Whether one simple-signing payload and its signature sign `digest` with one of `keys`; the key's name or why not. */
export function checkPayload(payload: Uint8Array, signatureB64: string, digest: string, keys: NamedKey[]): { ok: true; key: string } | { ok: false; reason: string } {
  let parsed: z.infer<typeof Payload>;
  try {
    const result = Payload.safeParse(JSON.parse(Buffer.from(payload).toString("utf8")));
    if (!result.success) return { ok: false, reason: "a signature payload is not a cosign simple-signing document" };
    parsed = result.data;
  } catch {
    return { ok: false, reason: "a signature payload is not JSON" };
  }
  const signed = parsed.critical.image["docker-manifest-digest"];
  if (signed !== digest) return { ok: false, reason: `a signature signs ${signed}, not this digest` };
  const signature = Buffer.from(signatureB64, "base64");
  for (const { name, key } of keys) {
    try {
      if (verifySignature(key.asymmetricKeyType === "ed25519" ? null : "sha256", payload, key, signature)) return { ok: true, key: name };
    } catch {
      // a signature of another key type: not this key
    }
  }
  return { ok: false, reason: `no signature verifies with ${keys.map((k) => k.name).join(", ")}` };
}

/** Looks up and checks the cosign signatures of `repository@digest`. Registry failures throw (they are not a verdict). */
export async function verifyImage(client: RegistryClient, repository: string, digest: string, keys: NamedKey[]): Promise<SignatureResult> {
  let manifest;
  try {
    manifest = await client.manifest(repository, signatureTag(digest));
  } catch (e) {
    if (e instanceof BatonError && e.code === "REGISTRY_NOT_FOUND") return { status: "missing", reason: `no cosign signature (${signatureTag(digest)}) for ${repository}@${digest}` };
    throw e;
  }
  if (manifest.kind !== "image") return { status: "invalid", reason: `${signatureTag(digest)} is an index, not a cosign signature manifest` };
  const reasons: string[] = [];
  for (const layer of manifest.layers) {
    const signature = layer.annotations?.[SIGNATURE_ANNOTATION];
    if (layer.mediaType !== SIMPLE_SIGNING || !signature) continue;
    const verdict = checkPayload(await client.blob(repository, layer.digest), signature, digest, keys);
    if (verdict.ok) return { status: "verified", key: verdict.key };
    reasons.push(verdict.reason);
  }
  return { status: "invalid", reason: reasons.length > 0 ? [...new Set(reasons)].join("; ") : `${signatureTag(digest)} holds no cosign signature layer` };
}

export function describeSignature(result: SignatureResult): string {
  return result.status === "verified" ? `signed (verified with ${result.key})` : result.status === "missing" ? "NOT SIGNED" : `signature INVALID: ${result.reason}`;
}
