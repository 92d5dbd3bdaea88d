/**
 * The `baton/signature` commit status of a pin or promotion PR: whether every digest it moves carries a
 * cosign signature by a key the target environment's `verify` lists. Branch protection that requires the
 * check keeps an unsigned digest out of the environment before the agent would refuse it.
 */
import type { GitHubApi } from "../github/api.js";
import { describeSignature, type SignatureResult } from "../registry/signature.js";

export const SIGNATURE_CONTEXT = "baton/signature";

export interface ImageSignature {
  repository: string;
  digest: string;
  result: SignatureResult;
}

/** The status GitHub shows (pure): success when every image is signed, else failure naming the images. */
export function signatureStatus(signatures: ImageSignature[]): { state: "success" | "failure"; description: string } {
  const unverified = signatures.filter((s) => s.result.status !== "verified");
  const shortName = (repository: string) => repository.slice(repository.lastIndexOf("/") + 1);
  const description = unverified.length === 0
    ? `${signatures.length} image(s) signed (${[...new Set(signatures.map((s) => (s.result.status === "verified" ? s.result.key : "")))].join(", ")})`
    : unverified.map((u) => `${shortName(u.repository)}: ${u.result.status === "missing" ? "not signed" : "invalid signature"}`).join(", ");
  return { state: unverified.length === 0 ? "success" : "failure", description: description.slice(0, 140) };
}

/** One line per image for the PR body. */
export const signatureLines = (signatures: ImageSignature[]): string[] => signatures.map((s) => `\`${s.repository}@${s.digest}\`: ${describeSignature(s.result)}`);

export async function postSignatureStatus(github: GitHubApi, commit: string, signatures: ImageSignature[]): Promise<void> {
  await github.setCommitStatus(commit, { ...signatureStatus(signatures), context: SIGNATURE_CONTEXT });
}
