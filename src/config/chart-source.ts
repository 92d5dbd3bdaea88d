/**
 * Charts from OCI registries (`helm: {chart: oci://…, version, digest}`): fetched with Baton's registry
 * client — never by helm, which renders offline as for a chart in the repo — from sources baton.yaml's
 * `chartRepositories` allows (checked when baton.yaml loads), and cached by manifest digest. A digest pinned
 * in baton.yaml is content-addressed: a cached chart is used without asking the registry, and a registry
 * whose version tag now names another digest is refused before anything renders.
 */
import { randomBytes } from "node:crypto";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { BatonError } from "../errors.js";
import { defaultDockerConfigPath, dockerConfigCredentials } from "../registry/auth.js";
import { RegistryClient } from "../registry/client.js";
import { chartVersionNotFound, fetchHttpChart } from "./chart-http.js";

/** The layer `helm push` writes: the packaged chart (.tgz). */
export const HELM_CHART_LAYER = "application/vnd.cncf.helm.chart.content.v1.tar+gzip";
/** A packaged chart is at most this large (its rendered output has the same bound per environment). */
const MAX_CHART_BYTES = 16 * 1024 * 1024;

export interface ChartSource {
  /** Folder of `<digest hex>.tgz` files; safe to share between processes (files appear by rename). */
  cacheDir: string;
  registry: RegistryClient;
}

export interface RemoteChart {
  chart: string;
  version: string;
  digest?: string;
}

export interface ChartWhere {
  env: string;
  file: string;
  field: string;
}

let configured: ChartSource | undefined;

/**
 * Where charts are cached and how registries are reached, for this process: the agent sets its cache folder
 * and registry credentials once at start; the CLI uses ~/.cache/baton/charts and the docker config Docker reads.
 */
export function useChartSource(source: ChartSource): void {
  configured = source;
}

async function chartSource(): Promise<ChartSource> {
  configured ??= {
    cacheDir: path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), ".cache"), "baton", "charts"),
    registry: new RegistryClient({ credentials: await dockerConfigCredentials(defaultDockerConfigPath(), true) }),
  };
  return configured;
}

const cacheFile = (cacheDir: string, digest: string) => path.join(cacheDir, `${digest.replace(":", "-")}.tgz`);

async function exists(file: string): Promise<boolean> {
  return fs.access(file).then(() => true, () => false);
}

/** The packaged chart (.tgz) for an `oci://` or `https://` chart at its version, fetched into the cache unless it is there. */
export async function fetchChart(spec: RemoteChart, where: ChartWhere): Promise<string> {
  const { cacheDir, registry } = await chartSource();
  if (spec.digest && await exists(cacheFile(cacheDir, spec.digest))) return cacheFile(cacheDir, spec.digest);
  if (/^https?:\/\//.test(spec.chart)) {
    const fetched = await fetchHttpChart(spec, where, MAX_CHART_BYTES);
    return store(cacheDir, fetched.digest, fetched.bytes);
  }
  const repository = spec.chart.slice("oci://".length);
  const name = `${spec.chart}:${spec.version}`;
  // helm push stores a version's `+` (build metadata) as `_`: OCI tags cannot hold `+`.
  const manifest = await registry.manifest(repository, spec.version.replace(/\+/g, "_")).catch((e: unknown) => {
    if (e instanceof BatonError && e.code === "REGISTRY_NOT_FOUND") throw chartVersionNotFound(spec, where, "the registry", `a version pushed there (helm show chart ${spec.chart} --version <v> checks one)`);
    throw e;
  });
  if (spec.digest && manifest.digest !== spec.digest) {
    throw new BatonError("CHART_DIGEST_MISMATCH", `environment "${where.env}": ${name} is ${manifest.digest} in the registry, but baton.yaml pins ${spec.digest}`, {
      file: where.file, field: `${where.field}.digest`, hint: "the version was pushed again since it was pinned; nothing was rendered. Find out who re-pushed it; pin the new digest only if you trust that chart",
    });
  }
  const cached = cacheFile(cacheDir, manifest.digest);
  if (await exists(cached)) return cached;
  const layers = manifest.kind === "image" ? manifest.layers.filter((l) => l.mediaType === HELM_CHART_LAYER) : [];
  const layer = layers[0];
  if (!layer || layers.length !== 1) {
    throw new BatonError("CHART_BAD_ARTIFACT", `environment "${where.env}": ${name} is not a Helm chart (no single ${HELM_CHART_LAYER} layer)`, {
      file: where.file, field: `${where.field}.chart`, hint: "push the chart with `helm push <chart>.tgz oci://…`; an image or another artifact cannot be rendered",
    });
  }
  return store(cacheDir, manifest.digest, await registry.blob(repository, layer.digest, MAX_CHART_BYTES));
}

/** Writes a fetched chart into the cache under its digest (by rename, so readers never see half a file). */
async function store(cacheDir: string, digest: string, bytes: Uint8Array): Promise<string> {
  const cached = cacheFile(cacheDir, digest);
  await fs.mkdir(cacheDir, { recursive: true });
  const partial = `${cached}.${randomBytes(6).toString("hex")}.partial`;
  await fs.writeFile(partial, bytes);
  await fs.rename(partial, cached);
  return cached;
}
