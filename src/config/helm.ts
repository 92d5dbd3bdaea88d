/**
 * Helm environments: a chart folder in the repo plus the environment's values files, rendered with
 * `helm template` offline. Like kustomize, helm only reads the revision: the chart must be inside the repo
 * and outside other environments' folders, no symlink in it may leave the repo, dependencies must be
 * vendored (`charts/`), and helm runs with no network, no plugins and none of the agent's variables.
 */
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { BatonError } from "../errors.js";
import { parseAllDocuments } from "yaml";
import { chartImageDefaults } from "./edit-values.js";
import { assertInside, readLimited, relativeToRepo, resolveInRepo } from "./files.js";
import { checkYamlBounds } from "./yaml-safe.js";
import type { KustomizeBoundary } from "./kustomize.js";
import { DEAD_PROXY } from "./kustomize.js";
import { DEFAULT_LIMITS, type Limits } from "./limits.js";
import { onPath, runOffline } from "./offline-run.js";
import { isRemoteChart, PIPELINE_FILE, type PipelineEnvironment } from "./pipeline.js";
import { fetchChart } from "./chart-source.js";

export type HelmSpec = NonNullable<PipelineEnvironment["helm"]>;

/** The chart (a folder in the repo, or a fetched chart's .tgz) and the values files of a Helm environment, checked; absolute paths. */
export interface HelmInputs {
  chart: string;
  values: string[];
}

const inside = (child: string, parent: string): boolean => child === parent || child.startsWith(parent + path.sep);

/**
 * Checks the chart and values before helm sees them: both inside the repo, the values inside the
 * environment's own folder (pins are edited there), the chart outside every other environment's folder
 * (a commit there would change this environment), and no symlink in the chart leaving the repo.
 */
export async function checkHelmInputs(repoDir: string, env: PipelineEnvironment, envDir: string, index: number, limits: Limits = DEFAULT_LIMITS, boundary?: KustomizeBoundary): Promise<HelmInputs> {
  const spec = env.helm as HelmSpec;
  const field = `environments[${index}].helm`;
  const chart = isRemoteChart(spec.chart)
    ? await fetchChart({ chart: spec.chart, version: spec.version ?? "", ...(spec.digest ? { digest: spec.digest } : {}) }, { env: env.name, file: PIPELINE_FILE, field })
    : await checkRepoChart(repoDir, env, spec, field, limits, boundary);
  const realEnv = await fs.realpath(envDir);
  return { chart, values: await checkValues(repoDir, env, spec, envDir, realEnv, field) };
}

/** A chart folder in the repo: it exists, stays inside the repo and outside other environments' folders. */
async function checkRepoChart(repoDir: string, env: PipelineEnvironment, spec: HelmSpec, field: string, limits: Limits, boundary?: KustomizeBoundary): Promise<string> {
  const chart = resolveInRepo(repoDir, spec.chart, { file: PIPELINE_FILE, field: `${field}.chart` });
  try {
    await fs.access(path.join(chart, "Chart.yaml"));
  } catch {
    throw new BatonError("HELM_CHART_NOT_FOUND", `environment "${env.name}": ${spec.chart}/Chart.yaml does not exist`, {
      file: PIPELINE_FILE, field: `${field}.chart`, hint: "name a chart folder in the repo; vendor a published chart with `helm pull <chart> --version <v> --untar -d charts/`",
    });
  }
  const realChart = await fs.realpath(chart);
  await assertInside(repoDir, chart, spec.chart);
  const owner = boundary?.foreign.find((f) => inside(realChart, f.dir) || inside(f.dir, realChart));
  if (boundary && owner) {
    throw new BatonError("ENV_CROSS_REFERENCE", `environment "${env.name}" renders chart ${spec.chart}, which overlaps environment "${owner.env}"'s folder; a commit to "${owner.env}" would change "${env.name}"`, {
      file: PIPELINE_FILE, field: `${field}.chart`, hint: "keep charts outside environment folders (e.g. charts/<name>) and each environment's values in its own folder",
    });
  }
  await checkChartFiles(repoDir, chart, limits);
  return chart;
}

async function checkValues(repoDir: string, env: PipelineEnvironment, spec: HelmSpec, envDir: string, realEnv: string, field: string): Promise<string[]> {
  const values: string[] = [];
  for (const [i, file] of spec.values.entries()) {
    const where = { file: PIPELINE_FILE, field: `${field}.values[${i}]` };
    const full = resolveInRepo(envDir, file, where);
    let real: string;
    try {
      real = await fs.realpath(full);
    } catch {
      throw new BatonError("HELM_VALUES_NOT_FOUND", `environment "${env.name}": values file ${relativeToRepo(repoDir, full)} does not exist`, {
        ...where, hint: `values files are named relative to ${env.path}/; create it or fix the name`,
      });
    }
    if (!inside(real, realEnv)) {
      throw new BatonError("PATH_TRAVERSAL", `values file ${file} is not inside ${env.path}/`, {
        ...where, hint: "keep each environment's values in its own folder, where pin and promote edit them",
      });
    }
    values.push(full);
  }
  return values;
}

/** Every file of the chart stays in the repo (helm follows symlinks, and `.Files.Get` could read them into objects). */
async function checkChartFiles(repoDir: string, chart: string, limits: Limits): Promise<void> {
  let count = 0;
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (++count > limits.maxFiles) {
        throw new BatonError("TOO_MANY_FILES", `the chart has more than ${limits.maxFiles} files`, { file: relativeToRepo(repoDir, chart), hint: "a chart this large is unusual; check what it vendors" });
      }
      if (entry.isSymbolicLink()) await assertInside(repoDir, full, relativeToRepo(repoDir, full));
      else if (entry.isDirectory()) await walk(full);
    }
  };
  await walk(chart);
}

/** The helm command: $BATON_HELM, else `helm` on PATH. */
async function helmCommand(): Promise<string> {
  const configured = process.env.BATON_HELM;
  if (configured) return path.isAbsolute(configured) ? configured : (await onPath(configured)) ?? configured;
  const found = await onPath("helm");
  if (found) return found;
  throw new BatonError("HELM_NOT_FOUND", "this environment is a Helm chart but helm is not on PATH", {
    hint: "install helm 3 (https://helm.sh/docs/intro/install/) or set BATON_HELM to its path",
  });
}

/**
 * The environment helm runs in: its homes in an empty scratch folder (no repositories, registries or
 * plugins configured), HTTP(S) to a dead proxy, no kubeconfig, none of the agent's variables.
 */
function helmEnv(scratch: string): NodeJS.ProcessEnv {
  return {
    PATH: "/nonexistent",
    HOME: scratch,
    HELM_CACHE_HOME: path.join(scratch, "cache"),
    HELM_CONFIG_HOME: path.join(scratch, "config"),
    HELM_DATA_HOME: path.join(scratch, "data"),
    HELM_PLUGINS: "/nonexistent",
    KUBECONFIG: "/nonexistent",
    HTTP_PROXY: DEAD_PROXY, HTTPS_PROXY: DEAD_PROXY, http_proxy: DEAD_PROXY, https_proxy: DEAD_PROXY,
    ALL_PROXY: DEAD_PROXY, NO_PROXY: "", no_proxy: "",
  };
}

/** Runs helm in the offline sandbox (helmEnv) with a scratch home removed afterwards. */
async function runHelm(args: string[], relDir: string, step: string, hint: string, limits: Limits): Promise<string> {
  const bin = await helmCommand();
  const scratch = await fs.mkdtemp(path.join(os.tmpdir(), "baton-helm-"));
  try {
    return await runOffline({ bin, args, env: helmEnv(scratch), relDir, step, codes: { failed: "HELM_FAILED", timeout: "HELM_TIMEOUT" }, hint }, limits);
  } finally {
    await fs.rm(scratch, { recursive: true, force: true });
  }
}

/** How a chart is named in messages: its repo folder, or `oci://… --version x` for a fetched one. */
function chartLabel(repoDir: string, spec: HelmSpec, chart: string): string {
  return isRemoteChart(spec.chart) ? `${spec.chart} --version ${spec.version ?? ""}` : relativeToRepo(repoDir, chart);
}

/** `helm template` of the environment: release name, namespace, values in order; CRDs included, test hooks left out. */
export async function helmTemplate(repoDir: string, env: PipelineEnvironment, inputs: HelmInputs, limits: Limits = DEFAULT_LIMITS): Promise<string> {
  const spec = env.helm as HelmSpec;
  const relDir = chartLabel(repoDir, spec, inputs.chart);
  const args = ["template", spec.releaseName ?? env.name, inputs.chart, "--include-crds", "--skip-tests",
    ...(env.namespace ? ["--namespace", env.namespace] : []), ...inputs.values.flatMap((v) => ["--values", v])];
  const vendored = isRemoteChart(spec.chart) ? "" : ` (dependencies must be vendored in ${relDir}/charts/)`;
  return runHelm(args, relDir, "helm template",
    `run \`helm template ${spec.releaseName ?? env.name} ${relDir}${inputs.values.map((v) => ` -f ${relativeToRepo(repoDir, v)}`).join("")}\` locally to see the full error${vendored}`, limits);
}

/** The chart's default image paths (see chartImageDefaults); empty for a chart without values.yaml. */
export async function chartValuesDefaults(repoDir: string, env: PipelineEnvironment, limits: Limits = DEFAULT_LIMITS): Promise<Map<string, string>> {
  if (!env.helm) return new Map();
  let text: string | undefined;
  let label: string;
  if (isRemoteChart(env.helm.chart)) {
    const tgz = await fetchChart({ chart: env.helm.chart, version: env.helm.version ?? "", ...(env.helm.digest ? { digest: env.helm.digest } : {}) }, { env: env.name, file: PIPELINE_FILE, field: "helm" });
    label = `${chartLabel(repoDir, env.helm, tgz)} values.yaml`;
    text = await runHelm(["show", "values", tgz], label, "helm show values", `run \`helm show values ${label}\``, limits);
  } else {
    const file = path.join(resolveInRepo(repoDir, env.helm.chart, { file: PIPELINE_FILE, field: "helm.chart" }), "values.yaml");
    label = relativeToRepo(repoDir, file);
    text = await readLimited(repoDir, file, limits).catch(() => undefined);
  }
  if (text === undefined) return new Map();
  checkYamlBounds(text, label, limits);
  const doc = parseAllDocuments(text, { uniqueKeys: false })[0];
  return doc ? chartImageDefaults(doc) : new Map();
}
