/**
 * Step 2, render: the folder with its pins and release, checked before anything is read or written in
 * the cluster. Nothing is applied from a repo that does not validate, an empty render never prunes
 * everything by accident, and no object may land where the Environment may not write.
 */
import path from "node:path";
import { BatonError, BatonErrors } from "../../errors.js";
import { loadPipeline, type NotifierSpec, type PipelineEnvironment } from "../../config/pipeline.js";
import { renderForCluster } from "../../kube/planner.js";
import { environmentScope, scopeViolations } from "../../kube/scope.js";
import type { EnvironmentSpec } from "../environment.js";
import type { Fetched, Rendered, StepContext } from "./context.js";

export async function renderStep(ctx: StepContext, fetched: Fetched): Promise<Rendered> {
  const { spec } = ctx;
  const { envSpec, notifiers, render } = await renderOnce(ctx, fetched);
  if (render.objects.length === 0 && ctx.previous.length > 0 && !spec.allowEmpty) {
    throw new BatonError("OBJECT_MISSING_FIELD", `${spec.path} rendered zero objects; refusing to prune the ${ctx.previous.length} applied objects`, {
      file: spec.path, hint: "restore the manifests, or set spec.allowEmpty: true to really delete everything",
    });
  }
  // Where this Environment may write (its grant and the agent's flag), before anything is read or written there.
  const outside = scopeViolations(render.objects, environmentScope(ctx.owner.namespace, spec, ctx.noCrossNamespaceObjects));
  if (outside.length > 0) throw new BatonErrors(outside);
  return { envSpec, ...(notifiers ? { notifiers } : {}), render };
}

/**
 * The render of a revision is a pure function of the checkout (read-only, one directory per commit), the
 * Environment's spec and name, and API discovery (the scope of custom kinds). An interval run of an
 * unchanged revision reuses its Environment's last render: reading and parsing the folder again was most
 * of an idle reconcile's CPU (200 renders of 20 objects: 2–3 s on the loaded machine, every interval).
 * Failed renders are not kept. The checks below (empty render, scope) still run every time.
 */
async function renderOnce(ctx: StepContext, fetched: Fetched): Promise<Rendered> {
  const { spec } = ctx;
  await ctx.agent.discover();
  const slot = `${ctx.owner.namespace}/${ctx.owner.name}`;
  const key = JSON.stringify([fetched.dir, fetched.revision, spec, ctx.owner, ctx.agent.discoveryGeneration]);
  const kept = ctx.renders?.get(slot, key);
  if (kept) return kept;
  const { env: envSpec, notifiers } = await pipelineEnvironment(fetched.dir, spec, ctx.owner.name);
  const render = await renderForCluster(ctx.agent, fetched.dir, envSpec, spec.targetNamespace ? { targetNamespace: spec.targetNamespace } : {});
  const rendered = { envSpec, ...(notifiers ? { notifiers } : {}), render };
  ctx.renders?.set(slot, key, rendered);
  return rendered;
}

/** Each Environment's last render and what it was rendered from (the agent keeps one per Environment). */
export class RenderCache {
  private readonly last = new Map<string, { key: string; rendered: Rendered }>();

  get(environment: string, key: string): Rendered | undefined {
    const kept = this.last.get(environment);
    return kept?.key === key ? kept.rendered : undefined;
  }

  set(environment: string, key: string, rendered: Rendered): void {
    this.last.set(environment, { key, rendered });
  }

  /** The Environment was deleted. */
  forget(environment: string): void {
    this.last.delete(environment);
  }
}

/** Policy for this folder from the repo's baton.yaml, when it has one that lists the path. */
async function pipelineEnvironment(dir: string, spec: EnvironmentSpec, name: string): Promise<{ env: PipelineEnvironment; notifiers?: NotifierSpec[] }> {
  const fallback: PipelineEnvironment = { name, path: spec.path, autoPromote: false, prune: spec.prune, requireDigests: true, allowDirectPush: false, ...(spec.targetNamespace ? { namespace: spec.targetNamespace } : {}) };
  try {
    const pipeline = await loadPipeline(dir);
    const match = pipeline.environments.find((e) => path.posix.normalize(e.path) === path.posix.normalize(spec.path));
    const env = match ? { ...match, ...(spec.targetNamespace ? { namespace: spec.targetNamespace } : {}) } : fallback;
    return pipeline.notifications ? { env, notifiers: pipeline.notifications } : { env };
  } catch (e) {
    if (e instanceof BatonError && e.code === "PIPELINE_NOT_FOUND") return { env: fallback };
    throw e;
  }
}
