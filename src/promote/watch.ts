/**
 * `baton watch` (CI) and the agent's promoter: for every environment with `imageWatch`, find the newest tag
 * each policy accepts, resolve it to a digest (an index's for multi-arch tags) and, when that digest is not
 * what the environment pins, pin it — one pin PR per environment (an older watch PR is closed as
 * superseded), or a direct commit where the pipeline allows. Idempotent: a digest already pinned, or
 * already proposed by an open PR, changes nothing. Never writes to the registry.
 */
import { canonicalRepository, imageShortName } from "../config/image-ref.js";
import { loadPipeline, type PipelineEnvironment } from "../config/pipeline.js";
import type { Pin } from "../config/pins.js";
import { environmentPins } from "../config/repo.js";
import { BatonError, BatonErrors } from "../errors.js";
import type { GitHubApi } from "../github/api.js";
import type { RegistryClient } from "../registry/client.js";
import { provenanceLine, readProvenance } from "../registry/provenance.js";
import { describeSignature, loadKeys, verifyImage, type SignatureResult } from "../registry/signature.js";
import { describePolicy, matchingTags } from "../registry/tag-policy.js";
import { prepareClone } from "./git-workspace.js";
import { postSignatureStatus } from "./signature-status.js";
import { pinBranch } from "./naming.js";
import { pin, type PinResult } from "./pin.js";
import type { Progress } from "./promote.js";

export interface WatchRequest {
  repo: string;
  /** Only this environment (default: every environment with imageWatch). */
  env?: string;
  registry: RegistryClient;
  dryRun?: boolean;
  github?: (remoteUrl: string | undefined) => GitHubApi;
  progress?: Progress;
}

export interface WatchedImage {
  repository: string;
  tag?: string;
  digest?: string;
  /** The digest the environment pins now. */
  current?: string;
}

export interface WatchResult {
  env: string;
  /** up-to-date: nothing newer; proposed: an open pin PR already carries these digests; failed: see error. */
  action: PinResult["action"] | "up-to-date" | "proposed" | "failed";
  images: WatchedImage[];
  branch?: string;
  commit?: string;
  pull?: { number: number; url: string };
  superseded?: number[];
  /** With verify in baton.yaml: the signature check of each digest being pinned. */
  signatures?: Array<{ repository: string; digest: string; result: SignatureResult }>;
  error?: BatonError;
}

export { SIGNATURE_CONTEXT } from "./signature-status.js";

export async function watch(req: WatchRequest): Promise<WatchResult[]> {
  const progress = req.progress ?? (() => undefined);
  let github: GitHubApi | undefined;
  if (!req.dryRun) {
    const { ws } = await prepareClone(req.repo, { progress });
    const remoteUrl = await ws.remoteUrl();
    github = req.github?.(remoteUrl);
  }
  const pipeline = await loadPipeline(req.repo);
  if (req.env !== undefined && !pipeline.environments.some((e) => e.name === req.env)) {
    throw new BatonError("PIPELINE_UNKNOWN_ENV", `no environment "${req.env}" in baton.yaml`, { file: "baton.yaml", hint: `use one of: ${pipeline.environments.map((e) => e.name).join(", ")}` });
  }
  const watched = pipeline.environments.filter((e) => e.imageWatch && (req.env === undefined || e.name === req.env));
  if (req.env !== undefined && watched.length === 0) {
    throw new BatonError("USAGE", `environment "${req.env}" has no imageWatch`, { file: "baton.yaml", hint: "add imageWatch to the environment (see the Supply chain section of the README)" });
  }
  const results: WatchResult[] = [];
  for (const env of watched) {
    try {
      results.push(await watchEnvironment(req, env, pipeline.environments.indexOf(env), github, progress));
    } catch (e) {
      const error = e instanceof BatonError ? e : e instanceof BatonErrors && e.errors[0] ? e.errors[0] : new BatonError("REGISTRY_FAILED", e instanceof Error ? e.message : String(e));
      results.push({ env: env.name, action: "failed", images: [], error });
    }
  }
  return results;
}

async function watchEnvironment(req: WatchRequest, env: PipelineEnvironment, index: number, github: GitHubApi | undefined, progress: Progress): Promise<WatchResult> {
  const spec = env.imageWatch;
  if (!spec) return { env: env.name, action: "up-to-date", images: [] };
  const { pins } = await environmentPins(req.repo, env);
  const images: WatchedImage[] = [];
  const moving: Array<Pin & { name: string; candidates: string[] }> = [];
  for (const [i, image] of spec.images.entries()) {
    progress(`${env.name}: listing tags of ${image.repository}`);
    const tags = await req.registry.listTags(image.repository);
    const matching = matchingTags(tags, image.tags);
    const tag = matching[0];
    if (!tag) {
      throw new BatonError("WATCH_NO_MATCH", `no tag of ${image.repository} matches ${describePolicy(image.tags)} (${tags.length} tag(s) listed)`, {
        file: "baton.yaml", field: `environments[${index}].imageWatch.images[${i}].tags`, hint: "push a matching tag, or widen the policy",
      });
    }
    const digest = await req.registry.resolve(image.repository, tag);
    const current = pins.get(canonicalRepository(image.repository));
    images.push({ repository: image.repository, tag, digest, ...(current?.digest ? { current: current.digest } : {}) });
    if (current?.digest === digest) continue;
    // The environment's own spelling of the repository, so the edit changes only the digest (and tag).
    moving.push({ name: imageShortName(image.repository), repository: current?.repository ?? image.repository, tag, digest, candidates: [tag, ...(tags.includes("latest") ? ["latest"] : []), ...matching.slice(1)] });
  }
  if (moving.length === 0) return { env: env.name, action: "up-to-date", images };
  if (spec.mode === "pr" && github && !req.dryRun) {
    const branch = pinBranch(env.name, moving);
    const open = await github.findOpenPull(branch);
    if (open) return { env: env.name, action: "proposed", images, branch, pull: { number: open.number, url: open.url } };
  }
  const keys = env.verify ? await loadKeys(req.repo, env.verify.keys, `environments[${index}].verify.keys`) : undefined;
  const signatures: NonNullable<WatchResult["signatures"]> = [];
  const provenance: string[] = [];
  for (const m of moving) {
    const digest = m.digest ?? "";
    let line: string;
    try {
      line = provenanceLine(await readProvenance(req.registry, m.repository, digest, m.candidates));
    } catch (e) {
      line = `\`${m.repository}\`: provenance unavailable (${e instanceof BatonError ? e.code : "error"})`;
    }
    if (keys) {
      const result = await verifyImage(req.registry, m.repository, digest, keys);
      signatures.push({ repository: m.repository, digest, result });
      line += `; ${describeSignature(result)}`;
    }
    provenance.push(line);
  }
  const unverified = signatures.filter((s) => s.result.status !== "verified");
  // A direct commit is applied by the agent as soon as it lands: an unverified digest is never pushed.
  if (spec.mode === "commit" && unverified[0]) {
    const first = unverified[0];
    throw new BatonError(first.result.status === "missing" ? "SIGNATURE_MISSING" : "SIGNATURE_INVALID", `${first.repository}@${first.digest}: ${describeSignature(first.result)}; nothing was pinned`, {
      file: "baton.yaml", field: `environments[${index}].verify`, hint: "sign the image with one of the keys in verify.keys (cosign sign --key), or fix the keys",
    });
  }
  const result = await pin({
    repo: req.repo, env: env.name, mode: spec.mode, supersede: true, provenance, progress,
    images: moving.map((m) => `${m.name}=${m.repository}:${m.tag}@${m.digest}`),
    ...(req.dryRun ? { dryRun: true } : {}),
    ...(github ? { github: () => github } : req.github ? { github: req.github } : {}),
  });
  if (keys && github && result.commit && (result.action === "opened" || result.action === "updated")) {
    // The PR's required check: branch protection that requires baton/signature keeps an unsigned digest out.
    await postSignatureStatus(github, result.commit, signatures);
  }
  return {
    env: env.name, action: result.action, images, ...(keys ? { signatures } : {}),
    ...(result.branch ? { branch: result.branch } : {}), ...(result.commit ? { commit: result.commit } : {}),
    ...(result.pull ? { pull: result.pull } : {}), ...(result.superseded?.length ? { superseded: result.superseded } : {}),
  };
}
