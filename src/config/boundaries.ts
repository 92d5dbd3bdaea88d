/**
 * Environments must not be able to change each other: a commit to `testing` (which needs no review)
 * must not reach `staging` or `production` past their PRs, approvals and windows. So environment folders
 * may not be the repo root, equal, nested or symlinked into each other, and an environment's objects
 * may not land in another environment's namespace (its `namespace` in baton.yaml).
 */
import { promises as fs } from "node:fs";
import path from "node:path";
import { BatonError } from "../errors.js";
import { checkKustomizationTree, findKustomization, type ForeignFolder } from "./kustomize.js";
import { formatId, type RenderedObject } from "./objects.js";
import { listYamlFiles, relativeToRepo } from "./files.js";
import { DEFAULT_LIMITS, type Limits } from "./limits.js";
import { PIPELINE_FILE, type PipelineEnvironment, type Pipeline } from "./pipeline.js";

const inside = (child: string, parent: string): boolean => child === parent || child.startsWith(parent + path.sep);
const normalize = (p: string): string => path.posix.normalize(p.replace(/\\/g, "/")).replace(/\/+$/, "");

async function realDir(dir: string): Promise<string | undefined> {
  try {
    return await fs.realpath(dir);
  } catch {
    return undefined; // a missing folder is reported by rendering (ENV_DIR_NOT_FOUND)
  }
}

/**
 * Problems with the folders of `pipeline`'s environments; with `only`, just those that involve that
 * environment (the agent and pin/promote check the environment they act on).
 */
export async function folderOverlaps(repoDir: string, pipeline: Pipeline, only?: string, limits: Limits = DEFAULT_LIMITS): Promise<BatonError[]> {
  return (await overlapsOf(repoDir, pipeline, limits)).filter((f) => !only || f.involves.includes(only)).map((f) => f.error);
}

/**
 * The same problems for every environment from one look at the folders: a caller rendering each
 * environment (`baton status`, the console's board) would otherwise walk every folder once per environment.
 */
export async function folderOverlapsByEnvironment(repoDir: string, pipeline: Pipeline, limits: Limits = DEFAULT_LIMITS): Promise<(env: string) => BatonError[]> {
  const found = await overlapsOf(repoDir, pipeline, limits);
  return (env) => found.filter((f) => f.involves.includes(env)).map((f) => f.error);
}

async function overlapsOf(repoDir: string, pipeline: Pipeline, limits: Limits): Promise<Array<{ error: BatonError; involves: string[] }>> {
  const found: Array<{ error: BatonError; involves: string[] }> = [];
  const envs = pipeline.environments.map((env, index) => ({ env, index, field: env.pathField ?? `environments[${index}].path` }));
  const realRepo = await fs.realpath(repoDir);
  const reals = new Map<string, string>();
  for (const e of envs) {
    if (normalize(e.env.path) === "." || normalize(e.env.path) === "") {
      found.push({ involves: [e.env.name], error: new BatonError("ENV_OVERLAP", `environment "${e.env.name}" uses the repo root as its folder, which holds every other environment`, {
        file: PIPELINE_FILE, field: e.field, hint: "give every environment its own folder, e.g. environments/<name>",
      }) });
      continue;
    }
    const real = await realDir(path.join(repoDir, normalize(e.env.path)));
    if (real) reals.set(e.env.name, real);
  }
  for (const [i, a] of envs.entries()) {
    for (const b of envs.slice(i + 1)) {
      const ra = reals.get(a.env.name), rb = reals.get(b.env.name);
      if (!ra || !rb) continue;
      const how = ra === rb ? "the same folder" : inside(ra, rb) || inside(rb, ra) ? "nested folders" : undefined;
      if (how) {
        found.push({ involves: [a.env.name, b.env.name], error: new BatonError("ENV_OVERLAP", `environments "${a.env.name}" (${a.env.path}) and "${b.env.name}" (${b.env.path}) use ${how}${ra !== path.join(realRepo, normalize(a.env.path)) || rb !== path.join(realRepo, normalize(b.env.path)) ? " (through a symlink)" : ""}; a change to one would change the other`, {
          file: PIPELINE_FILE, field: b.field, hint: "give every environment its own folder, side by side (environments/testing, environments/staging, …); share bases outside environment folders",
        }) });
      }
    }
  }
  // Files symlinked from one environment's folder into another's.
  for (const e of envs) {
    const own = reals.get(e.env.name);
    if (!own) continue;
    let files: string[];
    try {
      files = await listYamlFiles(repoDir, own, limits);
    } catch {
      continue; // reported by rendering
    }
    for (const file of files) {
      const real = await fs.realpath(file).catch(() => file);
      if (inside(real, own)) continue;
      const target = [...reals.entries()].find(([name, dir]) => name !== e.env.name && inside(real, dir));
      if (!target) continue;
      found.push({ involves: [e.env.name, target[0]], error: new BatonError("ENV_OVERLAP", `environment "${e.env.name}" reads this file through a symlink into environment "${target[0]}"'s folder; a change to "${target[0]}" would change "${e.env.name}"`, {
        file: relativeToRepo(realRepo, file), hint: "copy the file, or move what both share into a base outside the environment folders",
      }) });
    }
  }
  return found;
}

/**
 * The real folders of the other environments of `pipeline`, for the kustomize tree check. A folder that
 * holds `env`'s own (a parent) is left out: that overlap is ENV_OVERLAP, and every path of `env` would
 * otherwise count as foreign.
 */
export async function foreignFolders(repoDir: string, pipeline: Pipeline, env: PipelineEnvironment): Promise<ForeignFolder[]> {
  const own = await realDir(path.join(repoDir, normalize(env.path)));
  const out: ForeignFolder[] = [];
  for (const other of pipeline.environments) {
    if (other.name === env.name || normalize(other.path) === "." || normalize(other.path) === "") continue;
    const dir = await realDir(path.join(repoDir, normalize(other.path)));
    if (!dir || (own && inside(own, dir))) continue;
    out.push({ env: other.name, dir });
  }
  return out;
}

/**
 * What lets another environment change `env` without `env`'s review: an overlapping folder, or a kustomize
 * tree that reads another environment's folder. Checked before pin and promote edit anything (they do
 * not build the environment); other problems of the tree are left to rendering.
 */
export async function boundaryProblems(repoDir: string, pipeline: Pipeline, env: PipelineEnvironment, limits: Limits = DEFAULT_LIMITS): Promise<BatonError[]> {
  const overlaps = await folderOverlaps(repoDir, pipeline, env.name, limits);
  if (overlaps.length > 0) return overlaps;
  const kustomization = await findKustomization(path.join(repoDir, normalize(env.path)));
  if (!kustomization) return [];
  try {
    await checkKustomizationTree(repoDir, kustomization, limits, { env: env.name, foreign: await foreignFolders(repoDir, pipeline, env) });
  } catch (e) {
    if (e instanceof BatonError && e.code === "ENV_CROSS_REFERENCE") return [e];
  }
  return [];
}

/** Objects of `env` that land in another environment's namespace (a Namespace object naming it counts). */
export function foreignNamespaceObjects(objects: RenderedObject[], env: PipelineEnvironment, pipeline: Pipeline): BatonError[] {
  const owners = new Map<string, string[]>();
  for (const other of pipeline.environments) {
    if (other.name === env.name || !other.namespace || other.namespace === env.namespace) continue;
    owners.set(other.namespace, [...(owners.get(other.namespace) ?? []), other.name]);
  }
  const errors: BatonError[] = [];
  for (const o of objects) {
    const ns = o.id.namespace ?? (o.id.group === "" && o.id.kind === "Namespace" ? o.id.name : undefined);
    const names = ns ? owners.get(ns) : undefined;
    if (!names) continue;
    const object = formatId(o.id);
    errors.push(new BatonError("OBJECT_FOREIGN_NAMESPACE", `${object} of environment "${env.name}" lands in namespace ${ns}, which belongs to environment "${names.join("\", \"")}"`, {
      file: o.source.file, object, hint: `keep ${env.name}'s objects in its own namespace${env.namespace ? ` (${env.namespace})` : ""}; change ${names.join(", ")} only through ${names.length > 1 ? "their" : "its"} own folder`,
    }));
  }
  return errors;
}

/** The repo-relative files of an environment that pin/promote may edit: not symlinks out of its folder. */
export async function insideEnvironmentFolder(repoDir: string, env: PipelineEnvironment, file: string): Promise<boolean> {
  const realRepo = await fs.realpath(repoDir);
  const folder = path.join(realRepo, normalize(env.path));
  const real = await fs.realpath(path.join(repoDir, file)).catch(() => undefined);
  return real !== undefined && inside(real, folder);
}
