/** `baton unreject <env> <repo@digest>`: removes a rejected entry in a commit (pushed to the base branch with --push). */
import { BatonError } from "../errors.js";
import { findEnvironment, loadPipeline } from "../config/pipeline.js";
import { parseImageRef, shortDigest } from "../config/image-ref.js";
import { GitWorkspace } from "./git-workspace.js";
import { formatRejected, parseRejected, REJECTED_FILE, removeRejected } from "./rejected.js";
import { formatCommitMessage } from "./trailers.js";
import type { Progress } from "./promote.js";

export interface UnrejectRequest {
  repo: string;
  env: string;
  image: string;
  push?: boolean;
  dryRun?: boolean;
  progress?: Progress;
}

export interface UnrejectResult {
  action: "dry-run" | "committed" | "pushed";
  env: string;
  repository: string;
  digest: string;
  commit?: string;
}

export async function unreject(req: UnrejectRequest): Promise<UnrejectResult> {
  // Digests are hex: one spelled in capitals (as some tools print them) is the same digest.
  const parsed = parseImageRef(req.image.replace(/@sha256:([0-9a-f]{64})$/i, (m) => m.toLowerCase()));
  if (!parsed.ok || !parsed.ref.digest) {
    throw new BatonError("PIN_BAD_REFERENCE", `"${req.image}" is not <repo>@sha256:<digest>`, { field: "image", hint: "copy it from .baton/rejected.yaml, e.g. ghcr.io/acme/web@sha256:…" });
  }
  const { repository, digest } = { repository: parsed.ref.repository, digest: parsed.ref.digest };
  const ws = await GitWorkspace.open(req.repo);
  const base = await ws.currentBranch();
  await ws.ensureClean();
  if (!req.dryRun && req.push) await ws.syncBase(base);
  findEnvironment(await loadPipeline(req.repo), req.env);
  const before = (await ws.readFile(REJECTED_FILE)) ?? "";
  const after = formatRejected(removeRejected(parseRejected(before), req.env, repository, digest));
  const result: UnrejectResult = { action: "dry-run", env: req.env, repository, digest };
  if (req.dryRun) return result;
  await ws.writeEdits([{ file: REJECTED_FILE, before, after }]);
  result.commit = await ws.commit(formatCommitMessage(`Unreject ${repository}@sha256:${shortDigest(digest)} in ${req.env}`, []), [REJECTED_FILE]);
  if (!req.push) return { ...result, action: "committed" };
  req.progress?.(`pushing to ${base}`);
  await ws.push(base);
  return { ...result, action: "pushed", commit: await ws.head() };
}
