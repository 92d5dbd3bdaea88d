/**
 * `baton init`: read an existing config repo and propose a baton.yaml. Environment folders are found in the
 * layouts Argo CD, Flux and Kargo users have (`overlays/<env>`, `env/<env>`, `envs/<env>`,
 * `environments/<env>`, `apps/<env>`, `clusters/<env>`, `stages/<env>`), and Helm charts with a values file
 * per environment folder; the order follows the usual names (dev → test → staging → prod); every image still
 * on a tag is listed with the `baton pin` that fixes it. Nothing is written here: the CLI writes the text.
 */
import { promises as fs } from "node:fs";
import path from "node:path";
import { stringify } from "yaml";
import { BatonError } from "../errors.js";
import { relativeToRepo, isYamlFile } from "./files.js";
import { findKustomization } from "./kustomize.js";
import { PIPELINE_API_VERSION, PIPELINE_FILE, plainPipeline, type PipelineEnvironment } from "./pipeline.js";
import { readPins } from "./pins.js";
import { imageShortName } from "./image-ref.js";
import { renderEnvironment } from "./render.js";
import { parseYamlDocs } from "./yaml-safe.js";

/** Parent folders whose sub-folders are environments, in the layouts people use. */
export const LAYOUT_FOLDERS = ["overlays", "env", "envs", "environments", "apps", "clusters", "stages"];
/** Sub-folders of those that are shared, not environments. */
const SHARED = new Set(["base", "bases", "common", "components", "shared", "templates", "charts", "crds", "infrastructure", "infra"]);
/** The usual order of environment names; unknown names follow in alphabetical order. */
const ORDER = ["local", "dev", "development", "int", "integration", "test", "testing", "qa", "uat", "stage", "staging", "preprod", "pre-prod", "canary", "prod", "production", "live"];
const rank = (name: string): number => {
  const i = ORDER.indexOf(name.toLowerCase());
  return i === -1 ? ORDER.length : i;
};

export interface ProposedEnvironment {
  name: string;
  path: string;
  kind: "kustomize" | "plain" | "helm";
  namespace?: string;
  helm?: { chart: string; values: string[] };
}

export interface TaggedImage {
  env: string;
  image: string;
  repository: string;
  tag?: string;
  /** The command that pins it, with the digest left for the user (or a registry client) to fill in. */
  fix: string;
}

export interface InitProposal {
  /** The layout folder the environments were found under, e.g. `overlays`. */
  layout: string;
  environments: ProposedEnvironment[];
  pipelineText: string;
  tagged: TaggedImage[];
  /** Environments that did not render, with why (baton validate says more). */
  problems: Array<{ env: string; message: string }>;
  /** Files to move so each environment owns its folder (Helm values kept next to the chart), repo-relative. */
  moves: Array<{ from: string; to: string }>;
}

const envName = (folder: string): string | undefined => {
  const name = folder.toLowerCase().replace(/[^a-z0-9-]/g, "-").replace(/^-+|-+$/g, "").slice(0, 63);
  return name ? name : undefined;
};

/** Folders named like a layout folder, up to three levels deep (e.g. `apps/overlays`, `deploy/envs`). */
async function layoutFolders(repoDir: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (dir: string, depth: number): Promise<void> => {
    for (const entry of (await fs.readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
      if (!entry.isDirectory() || entry.name.startsWith(".") || entry.name === "node_modules") continue;
      const full = path.join(dir, entry.name);
      if (LAYOUT_FOLDERS.includes(entry.name)) found.push(full);
      if (depth < 3) await walk(full, depth + 1);
    }
  };
  await walk(repoDir, 1);
  return found;
}

/** Whether a folder holds something Baton renders: a kustomization, YAML files, or values for a chart. */
async function describeFolder(repoDir: string, dir: string, charts: string[]): Promise<ProposedEnvironment | undefined> {
  const name = envName(path.basename(dir));
  if (!name) return undefined;
  const rel = relativeToRepo(repoDir, dir);
  const kustomization = await findKustomization(dir);
  if (kustomization) {
    const env: ProposedEnvironment = { name, path: rel, kind: "kustomize" };
    const doc = parseYamlDocs(await fs.readFile(kustomization, "utf8"), relativeToRepo(repoDir, kustomization))[0]?.value;
    if (typeof doc?.namespace === "string") env.namespace = doc.namespace;
    return env;
  }
  const files = (await fs.readdir(dir, { withFileTypes: true })).filter((e) => e.isFile() && isYamlFile(e.name)).map((e) => e.name).sort();
  if (files.length === 0) return undefined;
  // A folder of values (documents that are not Kubernetes objects) next to one chart in the repo: a Helm environment.
  const texts = await Promise.all(files.map((f) => fs.readFile(path.join(dir, f), "utf8")));
  const values = files.filter((_, i) => !/^\s*(apiVersion|kind):/m.test(texts[i] ?? ""));
  if (values.length === files.length && charts.length === 1) {
    return { name, path: rel, kind: "helm", helm: { chart: charts[0] as string, values: values.includes("values.yaml") ? ["values.yaml", ...values.filter((v) => v !== "values.yaml")] : values } };
  }
  return { name, path: rel, kind: "plain" };
}

/** Chart folders (with Chart.yaml) in the repo, outside layout folders' environment sub-folders. */
async function findCharts(repoDir: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (dir: string, depth: number): Promise<void> => {
    if (await fs.stat(path.join(dir, "Chart.yaml")).catch(() => undefined)) {
      found.push(relativeToRepo(repoDir, dir));
      return;
    }
    if (depth >= 4) return;
    for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
      if (entry.isDirectory() && !entry.name.startsWith(".") && entry.name !== "node_modules") await walk(path.join(dir, entry.name), depth + 1);
    }
  };
  await walk(repoDir, 0);
  return found.sort();
}

/** Finds the environments, orders them, renders each to list images on tags. */
export async function proposePipeline(repoDir: string): Promise<InitProposal> {
  const charts = await findCharts(repoDir);
  let best: { layout: string; environments: ProposedEnvironment[] } | undefined;
  for (const folder of await layoutFolders(repoDir)) {
    const environments: ProposedEnvironment[] = [];
    for (const entry of (await fs.readdir(folder, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
      if (!entry.isDirectory() || entry.name.startsWith(".") || SHARED.has(entry.name.toLowerCase())) continue;
      const env = await describeFolder(repoDir, path.join(folder, entry.name), charts);
      if (env) environments.push(env);
    }
    // The layout folder with the most environments wins (apps/ in Flux repos also has overlays/ inside, …).
    if (environments.length > 0 && (!best || environments.length > best.environments.length)) best = { layout: relativeToRepo(repoDir, folder), environments };
  }
  const moves: InitProposal["moves"] = [];
  if (!best) best = await valuesPerEnvironment(repoDir, charts, moves);
  if (!best) {
    throw new BatonError("INIT_NO_ENVIRONMENTS", "no environment folders found", {
      file: relativeToRepo(process.cwd(), repoDir) || ".",
      hint: `put one folder per environment under one of ${LAYOUT_FOLDERS.map((f) => `${f}/`).join(", ")} (e.g. overlays/dev, overlays/prod), or write ${PIPELINE_FILE} by hand`,
    });
  }
  const environments = [...best.environments].sort((a, b) => rank(a.name) - rank(b.name) || a.name.localeCompare(b.name));
  // Values still next to the chart cannot render from their proposed folder yet: list the moves, skip the renders.
  const moved = new Set(moves.map((m) => path.posix.dirname(m.to)));
  const specs: PipelineEnvironment[] = environments.map((e, i) => ({
    name: e.name, path: e.path, autoPromote: false, prune: true, requireDigests: true, allowDirectPush: false,
    ...(i > 0 ? { promoteFrom: (environments[i - 1] as ProposedEnvironment).name } : {}),
    ...(e.namespace ? { namespace: e.namespace } : {}),
    ...(e.helm ? { helm: { chart: e.helm.chart, values: e.helm.values } } : {}),
  }));
  const tagged: TaggedImage[] = [];
  const problems: InitProposal["problems"] = [];
  for (const spec of specs) {
    if (moved.has(spec.path)) continue;
    try {
      const { pins } = readPins((await renderEnvironment(repoDir, spec, { pipeline: plainPipeline(specs) })).objects, { requireDigests: false });
      for (const pin of pins.values()) {
        if (pin.digest) continue;
        const image = `${pin.repository}${pin.tag ? `:${pin.tag}` : ""}`;
        tagged.push({ env: spec.name, image, repository: pin.repository, ...(pin.tag ? { tag: pin.tag } : {}), fix: `baton pin ${spec.name} ${imageShortName(pin.repository)}=${pin.repository}${pin.tag ? `:${pin.tag}` : ""}@sha256:<digest of ${image}>` });
      }
    } catch (e) {
      problems.push({ env: spec.name, message: e instanceof BatonError ? e.oneLine() : String(e) });
    }
  }
  return { layout: best.layout, environments, pipelineText: pipelineText(environments), tagged, problems, moves };
}

/**
 * A chart with a values file per environment beside it (`values-prod.yaml`, `values.prod.yaml`, as in Argo
 * CD's examples): each environment gets its own folder, so a commit to one environment's values cannot
 * change another's and pins are edited where the environment owns them.
 */
async function valuesPerEnvironment(repoDir: string, charts: string[], moves: InitProposal["moves"]): Promise<{ layout: string; environments: ProposedEnvironment[] } | undefined> {
  for (const chart of charts) {
    const environments: ProposedEnvironment[] = [];
    for (const file of (await fs.readdir(path.join(repoDir, chart))).sort()) {
      const m = /^values[-.]([A-Za-z0-9_-]+)\.ya?ml$/.exec(file);
      const name = m ? envName(m[1] as string) : undefined;
      if (!name) continue;
      const folder = `environments/${name}`;
      moves.push({ from: `${chart}/${file}`, to: `${folder}/values.yaml` });
      environments.push({ name, path: folder, kind: "helm", helm: { chart, values: ["values.yaml"] } });
    }
    if (environments.length > 0) return { layout: chart, environments };
  }
  return undefined;
}

/** The proposed baton.yaml: only what differs from the defaults, in the order found. */
export function pipelineText(environments: ProposedEnvironment[]): string {
  const body = {
    apiVersion: PIPELINE_API_VERSION,
    kind: "Pipeline",
    environments: environments.map((e, i) => ({
      name: e.name,
      path: e.path,
      ...(i > 0 ? { promoteFrom: (environments[i - 1] as ProposedEnvironment).name } : {}),
      ...(e.namespace ? { namespace: e.namespace } : {}),
      ...(e.helm ? { helm: { chart: e.helm.chart, ...(e.helm.values.length === 1 && e.helm.values[0] === "values.yaml" ? {} : { values: e.helm.values }) } } : {}),
    })),
  };
  return `# Proposed by baton init: check the order (promoteFrom) and add policies (soak, windows, approvers).\n${stringify(body)}`;
}
