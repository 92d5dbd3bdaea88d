/**
 * Whole-repo operations on a config repo checkout: validate everything, read an environment's pins,
 * and plan promotions/pins as file edits. Thin I/O around the pure functions in this folder.
 */
import { BatonError, BatonErrors } from "../errors.js";
import path from "node:path";
import { lineOf, nextTag, planEdits, type EditPlan, type PinChange, type SourceFile } from "./edit.js";
import { addImageEntries } from "./edit-kustomize.js";
import { KUSTOMIZATION_FILES } from "./kustomize.js";
import { chartValuesDefaults } from "./helm.js";
import { listIgnoredFiles, listYamlFiles, readLimited, relativeToRepo } from "./files.js";
import { canonicalRepository, imageShortName, parseImageRef } from "./image-ref.js";
import { DEFAULT_LIMITS, type Limits } from "./limits.js";
import { findEnvironment, loadPipeline, PIPELINE_FILE, type PipelineEnvironment, type Pipeline } from "./pipeline.js";
import { chartChange, setChartVersion } from "./edit-chart.js";
import { imageUses, pinSet, readPins, unmanagedImages, type Pin, type PinSet } from "./pins.js";
import { helmReleaseDefaults } from "./helm-release.js";
import { formatId } from "./objects.js";
import { ignoredAnnotations, type IgnoredAnnotation } from "./annotations.js";
import { boundaryProblems, folderOverlaps, foreignNamespaceObjects, insideEnvironmentFolder } from "./boundaries.js";
import { environmentDir, renderEnvironment, type Rendered, type RenderOptions } from "./render.js";
import { renderRelease } from "../release/render.js";

export interface UnmanagedImage {
  file: string;
  object: string;
  field: string;
  image: string;
}

export interface EnvironmentReport {
  name: string;
  objects: number;
  mode: Rendered["mode"];
  pins: Pin[];
  /** Files in a plain folder that rendering skips (not YAML, hidden). */
  ignored: string[];
  /** `image:` fields outside container lists: not checked, not promoted. */
  unmanagedImages: UnmanagedImage[];
  /** Annotations of other tools (Helm hooks, Argo CD sync options, …) that Baton does not honour. */
  ignoredAnnotations: IgnoredAnnotation[];
}

export interface ValidationReport {
  ok: boolean;
  environments: EnvironmentReport[];
  errors: BatonError[];
}

function asErrors(e: unknown): BatonError[] {
  if (e instanceof BatonErrors) return e.errors;
  if (e instanceof BatonError) return [e];
  throw e;
}

/** Errors that mean one environment can change another: validate then reports no environment as good. */
const CROSS_ENVIRONMENT_CODES = new Set(["ENV_OVERLAP", "OBJECT_FOREIGN_NAMESPACE", "ENV_CROSS_REFERENCE"]);

/** Checks baton.yaml, that every environment renders, and that pins obey policy. Reports every problem. */
export async function validateRepo(repoDir: string, options: RenderOptions = {}): Promise<ValidationReport> {
  let pipeline: Pipeline;
  try {
    pipeline = await loadPipeline(repoDir, options.limits);
  } catch (e) {
    return { ok: false, environments: [], errors: asErrors(e) };
  }
  const errors: BatonError[] = await folderOverlaps(repoDir, pipeline, undefined, options.limits);
  const environments: EnvironmentReport[] = [];
  for (const [envIndex, env] of pipeline.environments.entries()) {
    try {
      const rendered = await renderEnvironment(repoDir, env, { ...options, pipeline });
      const { pins, problems } = readPins(rendered.objects, env);
      problems.push(...foreignNamespaceObjects(rendered.objects, env, pipeline));
      errors.push(...problems);
      if (problems.length > 0) continue;
      const ignored = rendered.mode === "plain" ? await listIgnoredFiles(repoDir, await environmentDir(repoDir, env), options.limits) : [];
      const unmanaged = rendered.objects.flatMap((o) => unmanagedImages(o).map((u) => ({ file: o.source.file, object: formatId(o.id), field: u.field, image: u.image })));
      const { objects } = await renderRelease(repoDir, env, rendered.objects, { envIndex, ...(options.limits ? { limits: options.limits } : {}) });
      environments.push({ name: env.name, objects: objects.length, mode: rendered.mode, pins: [...pins.values()], ignored, unmanagedImages: unmanaged, ignoredAnnotations: ignoredAnnotations(rendered.objects) });
    } catch (e) {
      errors.push(...asErrors(e));
    }
  }
  // Environments that can change each other make the whole repo unsafe to promote from.
  const crossEnvironment = errors.some((e) => CROSS_ENVIRONMENT_CODES.has(e.code));
  return { ok: errors.length === 0, environments: crossEnvironment ? [] : environments, errors };
}

/** Refuses to edit an environment that another environment can change (pin and promote targets). */
export async function assertBoundaries(repoDir: string, pipeline: Pipeline, env: PipelineEnvironment, limits: Limits = DEFAULT_LIMITS): Promise<void> {
  const problems = await boundaryProblems(repoDir, pipeline, env, limits);
  if (problems.length > 0) throw new BatonErrors(problems);
}

/** Renders an environment and returns its pins; policy violations throw (nothing is promoted from a bad env). */
export async function environmentPins(repoDir: string, env: PipelineEnvironment, options: RenderOptions = {}): Promise<{ rendered: Rendered; pins: PinSet }> {
  const rendered = await renderEnvironment(repoDir, env, options);
  const { pins, problems } = readPins(rendered.objects, env);
  if (problems.length > 0) throw new BatonErrors(problems);
  return { rendered, pins };
}

/**
 * The YAML files of an environment's own folder: the only files a promotion into it may edit. A file
 * that is a symlink to somewhere else is left out, so an edit never writes through it into another folder.
 */
export async function readEnvironmentFiles(repoDir: string, env: PipelineEnvironment, limits: Limits = DEFAULT_LIMITS): Promise<SourceFile[]> {
  const dir = await environmentDir(repoDir, env);
  const files: SourceFile[] = [];
  for (const file of await listYamlFiles(repoDir, dir, limits)) {
    const relative = relativeToRepo(repoDir, file);
    if (await insideEnvironmentFolder(repoDir, env, relative)) files.push({ path: relative, text: await readLimited(repoDir, file, limits) });
  }
  return files;
}

export interface PromotionPlan extends EditPlan {
  source: string;
  target: string;
  /** The source's pins that are promoted (after --image filtering). */
  promoted: Pin[];
  /** Images the target pins that the source does not (left alone). */
  onlyInTarget: string[];
  /** Images the source pins that the target does not use (not promoted: a promotion never adds a workload). */
  onlyInSource: string[];
}

/** Matches `--image` selectors against repositories: full repository or its last path component. */
export function selectImages(pins: PinSet, selectors: string[] | undefined): PinSet {
  if (!selectors || selectors.length === 0) return pins;
  const out: PinSet = new Map();
  for (const selector of selectors) {
    const matches = [...pins.values()].filter((p) => p.repository === selector || imageShortName(p.repository) === selector || canonicalRepository(p.repository) === canonicalRepository(selector));
    if (matches.length === 0) {
      throw new BatonError("PIN_NOT_FOUND", `no image "${selector}" in the source environment`, {
        hint: `choose from: ${[...pins.values()].map((p) => p.repository).join(", ") || "(none)"}`,
      });
    }
    for (const m of matches) out.set(canonicalRepository(m.repository), m);
  }
  return out;
}

/**
 * The edits that make an environment pin `want`: its own files' pin sites, plus, for images the
 * environment runs (`running`) that only a shared base sets, an `images:` entry in the environment's own
 * kustomization (done for the user, as PIN_OUTSIDE_ENV would ask). `missing` keeps what is still unpinned.
 */
export async function planEnvironmentEdits(repoDir: string, env: PipelineEnvironment, rendered: Rendered, running: PinSet, want: PinSet, limits: Limits = DEFAULT_LIMITS): Promise<EditPlan> {
  const files = await readEnvironmentFiles(repoDir, env, limits);
  const plan = planEdits(files, want, {
    valuesDefaults: await chartValuesDefaults(repoDir, env, limits), declaredImages: env.helm?.images ?? [], helmReleaseDefaults: helmReleaseDefaults(rendered.objects),
  });
  // An image a shared HelmRelease's values set is not a kustomize `images:` entry's business (kustomize does not rewrite values).
  const releaseOnly = releaseOnlyRepositories(rendered.objects);
  const fromBase = plan.missing.map((r) => canonicalRepository(r)).filter((key) => running.has(key) && !releaseOnly.has(key));
  if (fromBase.length === 0 || rendered.mode !== "kustomize") return plan;
  const dir = relativeToRepo(repoDir, await environmentDir(repoDir, env));
  const own = files.find((f) => path.posix.dirname(f.path) === dir && KUSTOMIZATION_FILES.includes(path.posix.basename(f.path)));
  if (!own) return plan; // the kustomization is a symlink into a shared folder: never written through
  const entries = fromBase.map((key) => {
    const wanted = want.get(key) as Pin;
    const runs = running.get(key) as Pin;
    const tag = nextTag(runs, wanted);
    const change: PinChange = { repository: runs.repository, from: runs, to: wanted, sites: [] };
    return { entry: { name: runs.repository, ...(tag ? { tag } : {}), digest: wanted.digest as string }, change };
  });
  const existing = plan.edits.find((e) => e.file === own.path);
  const before = existing?.after ?? own.text;
  const after = addImageEntries(before, own.path, entries.map((e) => e.entry));
  for (const e of entries) e.change.sites = [{ file: own.path, line: lineOf(after, after.lastIndexOf(`name: ${e.entry.name}`)) }];
  if (existing) existing.after = after;
  else plan.edits.push({ file: own.path, before: own.text, after });
  plan.edits.sort((a, b) => a.file.localeCompare(b.file));
  plan.changes = [...plan.changes, ...entries.map((e) => e.change)].sort((a, b) => a.repository.localeCompare(b.repository));
  const added = new Set(fromBase);
  plan.missing = plan.missing.filter((r) => !added.has(canonicalRepository(r)));
  plan.noop = false;
  return plan;
}

/** Images the render runs only through Flux HelmReleases' values (no container list names their repository). */
function releaseOnlyUses(objects: Rendered["objects"]): Array<{ key: string; repository: string; release: string; field: string }> {
  const uses = objects.flatMap((o) => imageUses(o)).flatMap((use) => {
    const parsed = parseImageRef(use.image);
    return parsed.ok ? [{ use, repository: parsed.ref.repository, key: canonicalRepository(parsed.ref.repository) }] : [];
  });
  const inContainers = new Set(uses.filter((u) => u.use.helmRelease === undefined).map((u) => u.key));
  return uses.filter((u) => u.use.helmRelease !== undefined && !inContainers.has(u.key))
    .map((u) => ({ key: u.key, repository: u.repository, release: u.use.helmRelease as string, field: u.use.field }));
}

const releaseOnlyRepositories = (objects: Rendered["objects"]): Set<string> => new Set(releaseOnlyUses(objects).map((u) => u.key));

/** The edits that make `to` pin what `from` pins. */
export async function planPromotion(repoDir: string, pipeline: Pipeline, from: string, to: string, options: { images?: string[] } & RenderOptions = {}): Promise<PromotionPlan> {
  const source = findEnvironment(pipeline, from);
  const target = findEnvironment(pipeline, to);
  await assertBoundaries(repoDir, pipeline, target, options.limits);
  const { pins: sourcePins } = await environmentPins(repoDir, source, { ...options, pipeline });
  const want = selectImages(sourcePins, options.images);
  const { rendered, pins: targetPins } = await environmentPins(repoDir, target, { ...options, pipeline });
  const plan = await planEnvironmentEdits(repoDir, target, rendered, targetPins, want, options.limits);
  // The chart version moves too where both render the same oci:// chart (not for a promotion of chosen images).
  const chart = options.images?.length ? undefined : chartChange(source, target);
  if (chart) {
    const before = await readLimited(repoDir, path.join(repoDir, PIPELINE_FILE), options.limits ?? DEFAULT_LIMITS);
    const edited = setChartVersion(before, target.name, chart.to);
    chart.sites = [{ file: PIPELINE_FILE, line: edited.line }];
    plan.edits = [...plan.edits, { file: PIPELINE_FILE, before, after: edited.text }].sort((a, b) => a.file.localeCompare(b.file));
    plan.changes = [...plan.changes, chart];
    plan.noop = false;
  }
  const outside = plan.missing.filter((r) => targetPins.has(canonicalRepository(r)));
  const inRelease = releaseOnlyUses(rendered.objects).find((u) => outside.some((r) => canonicalRepository(r) === u.key));
  if (inRelease) {
    throw new BatonError("PIN_OUTSIDE_ENV", `${inRelease.repository} is set by HelmRelease ${inRelease.release}'s ${inRelease.field} in a file outside ${target.path}/`, {
      file: target.path, hint: `patch HelmRelease ${inRelease.release} from ${target.path}/ (its ${inRelease.field} in a kustomize patch of the environment's kustomization) so the environment owns its pin`,
    });
  }
  if (outside.length > 0) {
    throw new BatonError("PIN_OUTSIDE_ENV", `${outside.join(", ")} is pinned outside ${target.path}/ (in a file shared with other folders)`, {
      file: target.path, hint: `pin it in a file of ${target.path}/ (an inline image:, or an images: entry with a digest in its kustomization.yaml) so the environment owns its pin`,
    });
  }
  return {
    ...plan,
    source: from,
    target: to,
    promoted: [...want.values()],
    onlyInTarget: [...targetPins].filter(([key]) => !sourcePins.has(key)).map(([, pin]) => pin.repository).sort(),
    onlyInSource: plan.missing.filter((r) => !targetPins.has(canonicalRepository(r))),
  };
}

/** Parses `name=repo@sha256:…` (or just `repo@sha256:…`) as given to `baton pin`. */
export function parsePinArgument(arg: string): Pin & { name: string } {
  const eq = arg.indexOf("=");
  const name = eq === -1 ? undefined : arg.slice(0, eq);
  const refText = eq === -1 ? arg : arg.slice(eq + 1);
  const parsed = parseImageRef(refText);
  if (!parsed.ok || !parsed.ref.digest) {
    throw new BatonError(parsed.ok ? "PIN_NO_DIGEST" : parsed.problem === "bad-digest" ? "PIN_BAD_DIGEST" : "PIN_BAD_REFERENCE", `"${arg}" is not an image pinned by digest${parsed.ok ? "" : `: ${parsed.reason}`}`, {
      field: "image", hint: "pass <image>=<repo>@sha256:<64 hex>, e.g. web=ghcr.io/acme/web@sha256:…",
    });
  }
  const pin: Pin & { name: string } = { name: name ?? imageShortName(parsed.ref.repository), repository: parsed.ref.repository, digest: parsed.ref.digest };
  if (parsed.ref.tag) pin.tag = parsed.ref.tag;
  return pin;
}

/** The edits that pin freshly built images into an environment (CI's entry point). */
export async function planPin(repoDir: string, pipeline: Pipeline, envName: string, pins: Pin[], limits: Limits = DEFAULT_LIMITS): Promise<EditPlan> {
  const env = findEnvironment(pipeline, envName);
  await assertBoundaries(repoDir, pipeline, env, limits);
  // The same reading as validate (YAML 1.1/1.2 meaning, bounds, objects): pin must not carry a file
  // forward that kubectl would read differently. Digest policy is not checked: a pin is how it is met.
  const rendered = await renderEnvironment(repoDir, env, { limits, pipeline });
  const { pins: running } = readPins(rendered.objects, { requireDigests: false });
  const plan = await planEnvironmentEdits(repoDir, env, rendered, running, pinSet(pins), limits);
  const missing = new Set(plan.missing.map((r) => canonicalRepository(r)));
  const inRelease = releaseOnlyUses(rendered.objects).find((u) => missing.has(u.key));
  if (inRelease) {
    throw new BatonError("PIN_NOT_FOUND", `${inRelease.repository} is set by HelmRelease ${inRelease.release}'s ${inRelease.field} in a file outside ${env.path}/`, {
      file: env.path, hint: `patch HelmRelease ${inRelease.release} from ${env.path}/ (its ${inRelease.field} in a kustomize patch of the environment's kustomization), then pin`,
    });
  }
  if (plan.missing.length > 0) {
    const outside = plan.missing.filter((r) => running.has(canonicalRepository(r)));
    throw new BatonError("PIN_NOT_FOUND", outside.length > 0
      ? `${plan.missing.join(", ")} is set outside ${env.path}/ (${env.helm ? `only by the chart's default values` : "in a file shared with other folders"}) and ${env.path}/ has ${env.helm ? "no override of it" : "no kustomization.yaml of its own"} to pin it in`
      : `${plan.missing.join(", ")} is not used in ${env.path}/`, {
      file: env.path, hint: outside.length > 0
        ? env.helm ? `override the image's tag in ${env.path}/${env.helm.values[0] ?? "values.yaml"} at the chart's path (e.g. image: {tag: "1.0"}), then pin` : `write the image in a file of ${env.path}/, or make ${env.path}/ a kustomization that includes the shared files`
        : "pins only change images the environment already runs; add the workload's manifest first",
    });
  }
  return plan;
}
