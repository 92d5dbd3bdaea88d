/**
 * The pins a kustomize or Helm environment *renders* at a commit. Its digests may be set outside its own folder (a
 * base, a component, a patch file), so history and rollback must read what the environment renders, not
 * only the files in its folder. The inputs are the environment folder plus every local file and folder its
 * kustomization tree names at HEAD (checkKustomizationTree); at each commit those paths are written to a
 * scratch folder and rendered as the agent renders them. Renders are cached by the inputs' blob ids, so a
 * long history costs one `kustomize build` per distinct set of inputs, not one per commit.
 */
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { BatonError } from "../errors.js";
import { checkKustomizationTree, findKustomization } from "../config/kustomize.js";
import { findEnvironment, isRemoteChart, loadPipeline, PIPELINE_FILE, type PipelineEnvironment } from "../config/pipeline.js";
import { chartDigestText, chartPin } from "../config/edit-chart.js";
import { readPins } from "../config/pins.js";
import { environmentDir, renderEnvironment } from "../config/render.js";
import type { PinnedImage } from "./changes.js";
import type { HistoryGit } from "./git-objects.js";

export interface PinSource {
  /** The repo-relative paths whose commits may change the pins (what `git log` is asked about). */
  paths: string[];
  /** The pins at a commit; undefined when they cannot be read there (the commit does not render). */
  pinsAt(sha: string): Promise<PinnedImage[] | undefined>;
}

/** For a kustomize or Helm environment (chart + values), its rendered pins; undefined for a plain folder (its files are its pins). */
export async function renderedPinSource(ws: HistoryGit, env: PipelineEnvironment): Promise<PinSource | undefined> {
  const own = env.path.replace(/\/+$/, "");
  let inputs: string[];
  if (env.helm) {
    // A Helm environment renders its values through the chart: both decide its pins (an oci:// chart is
    // named by version and digest in baton.yaml: that file is then the input, read at each commit).
    inputs = [isRemoteChart(env.helm.chart) ? PIPELINE_FILE : env.helm.chart.replace(/\/+$/, "")];
  } else {
    const kustomization = await findKustomization(await environmentDir(ws.dir, env));
    if (!kustomization) return undefined;
    inputs = await checkKustomizationTree(ws.dir, kustomization);
  }
  const paths = [...new Set([own, ...inputs])].sort();
  const cache = new Map<string, Promise<PinnedImage[] | undefined>>();
  return {
    paths,
    pinsAt: async (sha) => {
      const blobs = (await Promise.all(paths.map((p) => ws.treeBlobs(sha, p)))).flat();
      const key = [...new Set(blobs.map((b) => `${b.path}\0${b.oid}`))].sort().join("\n");
      if (!cache.has(key)) cache.set(key, renderAt(ws, env, blobs));
      return cache.get(key) as Promise<PinnedImage[] | undefined>;
    },
  };
}

async function renderAt(ws: HistoryGit, env: PipelineEnvironment, blobs: Array<{ path: string; oid: string }>): Promise<PinnedImage[] | undefined> {
  if (blobs.length === 0) return [];
  const scratch = await fs.mkdtemp(path.join(os.tmpdir(), "baton-history-"));
  try {
    for (const blob of blobs) {
      const file = path.join(scratch, blob.path);
      await fs.mkdir(path.dirname(file), { recursive: true });
      await fs.writeFile(file, await ws.blob(blob.oid));
    }
    // An oci:// chart is the version baton.yaml named at that commit; the chart itself is one of the pins.
    const atCommit = env.helm && isRemoteChart(env.helm.chart) ? findEnvironment(await loadPipeline(scratch), env.name) : env;
    const { pins } = readPins((await renderEnvironment(scratch, atCommit)).objects, { requireDigests: false });
    const chart = chartPin(atCommit);
    const chartRow = chart ? [{ repository: chart.repository, digest: chartDigestText(chart) }] : [];
    return [...pins.values()].flatMap((p) => (p.digest ? [{ repository: p.repository, digest: p.digest }] : [])).concat(chartRow).sort((a, b) => a.repository.localeCompare(b.repository));
  } catch (e) {
    // Without kustomize nothing renders anywhere: say so. A commit that did not render (a broken base later
    // fixed) has no pins of its own; the history compares its neighbours instead.
    if (e instanceof BatonError && (e.code === "KUSTOMIZE_NOT_FOUND" || e.code === "HELM_NOT_FOUND")) throw e;
    return undefined;
  } finally {
    await fs.rm(scratch, { recursive: true, force: true });
  }
}
