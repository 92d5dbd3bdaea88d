/**
 * Rendering an environment: its folder's YAML (or `kustomize build` output) becomes a validated,
 * de-duplicated, stably ordered list of objects with the environment's default namespace applied.
 */
import { promises as fs } from "node:fs";
import path from "node:path";
import { BatonError } from "../errors.js";
import { assertInside, listYamlFiles, readLimited, relativeToRepo, resolveInRepo } from "./files.js";
import { checkKustomizationTree, findKustomization, KUSTOMIZATION_FILES, kustomizeBuild } from "./kustomize.js";
import { checkHelmInputs, helmTemplate } from "./helm.js";
import { DEFAULT_LIMITS, type Limits } from "./limits.js";
import { crdScopes, formatId, idKey, isBuiltinClusterScoped, objectId, validateObject, withDefaultNamespace, type RenderedObject } from "./objects.js";
import { foreignFolders } from "./boundaries.js";
import { loadPipelineIfAny, PIPELINE_FILE, type PipelineEnvironment, type Pipeline } from "./pipeline.js";
import { parseYamlDocs, type ParsedDoc } from "./yaml-safe.js";
import { RELEASE_FILE } from "../release/release.js";

export interface RenderOptions {
  limits?: Limits;
  /** Decides scope for kinds Baton does not know (CRDs); the agent passes API discovery. */
  clusterScoped?: (kind: string, group: string) => boolean;
  /** Namespace for namespaced objects without one when the environment sets none. */
  defaultNamespace?: string;
  /** Namespace for every namespaced object, overriding what it says (the Environment's targetNamespace). */
  targetNamespace?: string;
  /** The repo's baton.yaml, for the other environments' folders a kustomize build may not read; read from the repo when absent. */
  pipeline?: Pipeline;
}

export interface Rendered {
  env: string;
  /** How the folder was rendered. */
  mode: "plain" | "kustomize" | "helm";
  objects: RenderedObject[];
}

/** Locates an environment's folder, rejecting escapes; `index` is its position in baton.yaml for messages. */
export async function environmentDir(repoDir: string, env: PipelineEnvironment, index = 0): Promise<string> {
  const field = env.pathField ?? `environments[${index}].path`;
  const dir = resolveInRepo(repoDir, env.path, { file: PIPELINE_FILE, field });
  try {
    const stat = await fs.stat(dir);
    if (!stat.isDirectory()) throw new Error("not a directory");
  } catch {
    throw new BatonError("ENV_DIR_NOT_FOUND", `${env.stage ? `target "${env.name}" of stage ${env.stage}` : `environment "${env.name}"`} folder ${env.path} does not exist`, {
      file: PIPELINE_FILE, field, hint: `create ${env.path}/ with the environment's manifests or fix the path`,
    });
  }
  await assertInside(repoDir, dir, env.path);
  return dir;
}

export async function renderEnvironment(repoDir: string, env: PipelineEnvironment, options: RenderOptions = {}): Promise<Rendered> {
  const limits = options.limits ?? DEFAULT_LIMITS;
  const dir = await environmentDir(repoDir, env);
  if (env.helm) {
    const pipeline = options.pipeline ?? await loadPipelineIfAny(repoDir, limits);
    const index = pipeline?.environments.findIndex((e) => e.name === env.name) ?? 0;
    const boundary = pipeline ? { env: env.name, foreign: await foreignFolders(repoDir, pipeline, env) } : undefined;
    const inputs = await checkHelmInputs(repoDir, env, dir, Math.max(0, index), limits, boundary);
    // Values are read with the same bounds and YAML 1.1/1.2 checks as manifests before helm sees them.
    for (const file of inputs.values) parseYamlDocs(await readLimited(repoDir, file, limits), relativeToRepo(repoDir, file), limits);
    const docs = await parseKustomizeOutput(await helmTemplate(repoDir, env, inputs, limits), `${env.path} (helm template ${env.helm.chart})`, limits);
    return { env: env.name, mode: "helm", objects: toObjects(docs, env, options) };
  }
  const kustomization = await findKustomization(dir);
  let docs: ParsedDoc[];
  if (kustomization) {
    const pipeline = options.pipeline ?? await loadPipelineIfAny(repoDir, limits);
    const boundary = pipeline ? { env: env.name, foreign: await foreignFolders(repoDir, pipeline, env) } : undefined;
    await checkKustomizationTree(repoDir, kustomization, limits, boundary);
    docs = await parseKustomizeOutput(await kustomizeBuild(repoDir, dir, limits), `${env.path} (kustomize build)`, limits);
  } else {
    docs = [];
    let bytes = 0;
    // release.yaml is release state (read by src/release/render.ts), not an object to apply.
    const releaseFile = path.join(dir, RELEASE_FILE);
    const files = (await listYamlFiles(repoDir, dir, limits)).filter((f) => f !== releaseFile);
    // A sub-folder with its own kustomization.yaml is built with kustomize, as Flux builds such folders;
    // its files are not read one by one (the outermost kustomization of a branch wins).
    const roots = files.filter((f) => KUSTOMIZATION_FILES.includes(path.basename(f))).map((f) => path.dirname(f))
      .filter((root, _i, all) => !all.some((other) => other !== root && root.startsWith(other + path.sep)));
    const inRoot = (file: string) => roots.some((root) => file.startsWith(root + path.sep));
    const built = new Set<string>();
    let pipeline: Pipeline | undefined;
    const count = (text: string) => {
      bytes += Buffer.byteLength(text);
      if (bytes > limits.maxRenderBytes) {
        throw new BatonError("FILE_TOO_LARGE", `the environment's YAML files exceed ${limits.maxRenderBytes} bytes in total`, {
          file: env.path, hint: "an environment renders at most this much YAML; split it into several environments",
        });
      }
    };
    for (const file of files) {
      const root = roots.find((r) => file.startsWith(r + path.sep));
      if (root && !built.has(root)) {
        built.add(root);
        pipeline ??= options.pipeline ?? await loadPipelineIfAny(repoDir, limits);
        const boundary = pipeline ? { env: env.name, foreign: await foreignFolders(repoDir, pipeline, env) } : undefined;
        const nested = await findKustomization(root);
        if (nested) await checkKustomizationTree(repoDir, nested, limits, boundary);
        const output = await kustomizeBuild(repoDir, root, limits);
        count(output);
        for (const doc of await parseKustomizeOutput(output, `${relativeToRepo(repoDir, root)} (kustomize build)`, limits)) docs.push(doc);
      }
      if (inRoot(file)) continue;
      const text = await readLimited(repoDir, file, limits);
      count(text);
      for (const doc of parseYamlDocs(text, relativeToRepo(repoDir, file), limits)) docs.push(doc);
      await yieldToEventLoop();
    }
  }
  return { env: env.name, mode: kustomization ? "kustomize" : "plain", objects: toObjects(docs, env, options) };
}

/** Parsing is synchronous; between files the agent's other work (lease renewal, webhooks) gets a turn. */
const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * `kustomize build` output is one stream of up to `maxRenderBytes`; it is parsed one object at a time
 * (kustomize separates objects with a `---` line and indents everything else), so the per-file limits
 * apply to each object and the event loop is never held for the whole stream.
 */
export async function parseKustomizeOutput(text: string, file: string, limits: Limits): Promise<ParsedDoc[]> {
  const chunks = text.split(/^---\r?\n/m);
  if (chunks.length > limits.maxDocuments) {
    throw new BatonError("YAML_TOO_MANY_DOCUMENTS", `kustomize build produced more than ${limits.maxDocuments} objects`, { file, hint: "split the environment" });
  }
  const docs: ParsedDoc[] = [];
  let line = 0;
  let parsed = 0;
  for (const chunk of chunks) {
    for (const doc of parseYamlDocs(chunk, file, limits)) docs.push({ ...doc, index: docs.length, line: doc.line + line });
    line += chunk.split("\n").length;
    if (++parsed % 100 === 0) await yieldToEventLoop();
  }
  return docs;
}

/** Validates documents as objects, applies the default namespace, and rejects duplicates. Pure. */
export function toObjects(docs: ParsedDoc[], env: PipelineEnvironment, options: RenderOptions = {}): RenderedObject[] {
  const known = options.clusterScoped ?? ((kind: string) => isBuiltinClusterScoped(kind));
  const declared = crdScopes(docs.map((d) => d.value));
  const clusterScoped = (kind: string, group: string) => declared.get(`${group}/${kind}`) ?? known(kind, group);
  const namespace = options.targetNamespace ?? env.namespace ?? options.defaultNamespace;
  const seen = new Map<string, RenderedObject>();
  const out: RenderedObject[] = [];
  for (const doc of docs) {
    const source = { file: doc.file, line: doc.line };
    const obj = withDefaultNamespace(validateObject(doc.value, source), namespace, clusterScoped, options.targetNamespace !== undefined);
    const rendered: RenderedObject = { id: objectId(obj), object: obj, source };
    const key = idKey(rendered.id);
    const first = seen.get(key);
    if (first) {
      throw new BatonError("OBJECT_DUPLICATE", `${formatId(rendered.id)} is defined twice (first at ${first.source.file}:${first.source.line})`, {
        file: doc.file, object: formatId(rendered.id), hint: "keep one definition per object; environments differ by folder, not by duplicates",
      });
    }
    seen.set(key, rendered);
    out.push(rendered);
  }
  return out;
}
