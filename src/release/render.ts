/**
 * What the agent applies for an environment: the folder's objects, and — when baton.yaml gives the
 * environment a strategy — the slots, Services and routes of the release that release.yaml describes.
 * `baton render`, `baton diff`, `baton validate` and the agent all go through here, so they agree.
 */
import { BatonError, BatonErrors } from "../errors.js";
import { readPins, type PinSet } from "../config/pins.js";
import { renderEnvironment, type Rendered, type RenderOptions } from "../config/render.js";
import type { RenderedObject } from "../config/objects.js";
import { folderOverlaps } from "../config/boundaries.js";
import { loadPipelineIfAny, type PipelineEnvironment } from "../config/pipeline.js";
import { DEFAULT_LIMITS, type Limits } from "../config/limits.js";
import { loadRelease, releaseFilePath, type Release } from "./release.js";
import { renderStrategy, type StrategyOutput } from "./slots.js";

export interface ReleaseRender {
  objects: RenderedObject[];
  /** Set when the environment has a strategy. */
  release?: StrategyOutput;
  /** release.yaml as read (absent file: undefined). */
  file?: Release;
}

/** `objects` are the folder's rendered objects, with pins already checked. */
export async function renderRelease(repoDir: string, env: PipelineEnvironment, objects: RenderedObject[], options: { envIndex?: number; limits?: Limits } = {}): Promise<ReleaseRender> {
  const file = await loadRelease(repoDir, env, options.limits ?? DEFAULT_LIMITS);
  if (!env.strategy) {
    if (file) {
      throw new BatonError("RELEASE_MISMATCH", `${env.name} has a release.yaml but no strategy in baton.yaml`, {
        file: releaseFilePath(env), hint: "add a strategy to the environment in baton.yaml, or delete release.yaml",
      });
    }
    return { objects };
  }
  const release = renderStrategy({
    envName: env.name, envIndex: options.envIndex ?? 0, strategy: env.strategy, objects,
    ...(file ? { release: file } : {}), releaseFile: releaseFilePath(env),
  });
  return { objects: release.objects, release, ...(file ? { file } : {}) };
}

export interface ApplyRender extends ReleaseRender {
  rendered: Rendered;
  pins: PinSet;
}

/**
 * Render, check pins, and lay out the release: exactly what the agent applies (before ownership labels).
 * An environment whose folder overlaps another's is refused first, so no other environment's commit
 * reaches the cluster through it (validate checks every folder; here only this one's).
 */
export async function renderForApply(repoDir: string, env: PipelineEnvironment, options: RenderOptions & {
  envIndex?: number;
  /** The pipeline's folder overlaps, looked at once by a caller rendering every environment (folderOverlapsByEnvironment). */
  overlaps?: (env: string) => BatonError[];
} = {}): Promise<ApplyRender> {
  const limits = options.limits ?? DEFAULT_LIMITS;
  const pipeline = options.pipeline ?? await loadPipelineIfAny(repoDir, limits);
  if (pipeline) {
    const overlaps = options.overlaps ? options.overlaps(env.name) : await folderOverlaps(repoDir, pipeline, env.name, limits);
    if (overlaps.length > 0) throw new BatonErrors(overlaps);
  }
  const rendered = await renderEnvironment(repoDir, env, { ...options, ...(pipeline ? { pipeline } : {}) });
  const { pins, problems } = readPins(rendered.objects, env);
  if (problems.length > 0) throw new BatonErrors(problems);
  const release = await renderRelease(repoDir, env, rendered.objects, { ...(options.envIndex === undefined ? {} : { envIndex: options.envIndex }), ...(options.limits ? { limits: options.limits } : {}) });
  return { ...release, rendered, pins };
}
