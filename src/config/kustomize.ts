/**
 * Kustomize support: detecting a kustomization, checking that it stays inside the repo, and running
 * the `kustomize` binary (or `kubectl kustomize`) found on PATH.
 */
import { promises as fs } from "node:fs";
import path from "node:path";
import { BatonError } from "../errors.js";
import { relativeToRepo, readLimited } from "./files.js";
import { parseYamlDocs } from "./yaml-safe.js";
import { DEFAULT_LIMITS, type Limits } from "./limits.js";
import { onPath, runOffline } from "./offline-run.js";
import { isRemoteReference, kustomizationRefs, pluginConfigRefs, type KustomizeRef } from "./kustomize-refs.js";

export const KUSTOMIZATION_FILES = ["kustomization.yaml", "kustomization.yml", "Kustomization"];

/** Another environment's folder (its real path), which this environment's build may not read. */
export interface ForeignFolder {
  env: string;
  dir: string;
}

/** The environment being built and the folders of the others (see boundaries.ts). */
export interface KustomizeBoundary {
  env: string;
  foreign: ForeignFolder[];
}

export async function findKustomization(dir: string): Promise<string | undefined> {
  for (const name of KUSTOMIZATION_FILES) {
    try {
      const stat = await fs.stat(path.join(dir, name));
      if (stat.isFile()) return path.join(dir, name);
    } catch {
      // not this one
    }
  }
  return undefined;
}

/**
 * Walks the kustomization tree (resources, bases, components, patches, generators, transformers,
 * validators, generator files, replacements, openapi, crds, configurations; see kustomize-refs.ts) and
 * rejects anything that leaves the repo or would be fetched: the agent renders offline and only from
 * the revision it fetched. Generator/transformer config files are read too, since they name files.
 * Returns the repo-relative files and folders the tree names, with the kustomization's own folder.
 */
export async function checkKustomizationTree(repoDir: string, kustomizationFile: string, limits: Limits = DEFAULT_LIMITS, boundary?: KustomizeBoundary): Promise<string[]> {
  const realRepo = await fs.realpath(repoDir);
  const seen = new Set<string>();
  // Every local file and folder the tree names, repo-relative: what decides this rendering (history reads it).
  const inputs = new Set<string>([relativeToRepo(realRepo, path.dirname(await fs.realpath(kustomizationFile)))]);
  const visit = async (file: string, asPlugin: boolean): Promise<void> => {
    const key = `${asPlugin ? "plugin:" : ""}${file}`;
    if (seen.has(key)) return;
    seen.add(key);
    if (seen.size > limits.maxFiles) {
      throw new BatonError("TOO_MANY_FILES", `the kustomization tree names more than ${limits.maxFiles} files`, {
        file: relativeToRepo(repoDir, kustomizationFile), hint: "split the environment or raise the limit",
      });
    }
    const rel = relativeToRepo(repoDir, file);
    const docs = parseYamlDocs(await readLimited(repoDir, file, limits), rel, limits);
    const dir = path.dirname(file);
    const isKustomization = KUSTOMIZATION_FILES.includes(path.basename(file));
    for (const doc of isKustomization ? docs.slice(0, 1) : docs) {
      const { refs, unsupported } = isKustomization ? kustomizationRefs(doc.value) : pluginConfigRefs(doc.value);
      const bad = unsupported[0];
      if (bad) throw new BatonError("KUSTOMIZE_UNSUPPORTED", bad.message, { file: rel, field: bad.field, hint: bad.hint });
      for (const ref of refs) {
        const real = await resolveReference(realRepo, dir, ref, rel);
        const owner = boundary?.foreign.find((f) => real === f.dir || real.startsWith(f.dir + path.sep));
        if (boundary && owner) throw crossEnvironmentReference(boundary.env, owner.env, relativeToRepo(realRepo, real), rel, ref.field);
        inputs.add(relativeToRepo(realRepo, real));
        const stat = await fs.stat(real);
        if (stat.isFile() && stat.size > limits.maxFileBytes) {
          throw new BatonError("FILE_TOO_LARGE", `${relativeToRepo(realRepo, real)} is ${stat.size} bytes, over the ${limits.maxFileBytes}-byte limit`, {
            file: rel, field: ref.field, hint: "split the file; very large manifests usually mean generated data that belongs elsewhere",
          });
        }
        // Below a generator/transformer entry, every resource is a plugin config.
        const plugin = asPlugin || ref.role === "plugin";
        if (stat.isDirectory() && ref.role !== "file") {
          const nested = await findKustomization(real);
          if (nested) await visit(nested, plugin);
        } else if (stat.isFile() && plugin && ref.role !== "file") {
          await visit(real, true);
        }
      }
    }
  };
  await visit(kustomizationFile, false);
  return [...inputs].sort();
}

/**
 * One environment's build reading another's folder: a commit to that folder (say `testing`, which needs
 * no review) would change this environment (say `production`) past its PR, approvals and windows.
 */
function crossEnvironmentReference(env: string, other: string, target: string, file: string, field: string): BatonError {
  return new BatonError("ENV_CROSS_REFERENCE", `environment "${env}" reads ${target}, which is in environment "${other}"'s folder; a commit to "${other}" would change "${env}"`, {
    file, field, hint: `move what both environments share into a base outside the environment folders (e.g. bases/) and reference it from both; ${env} must not build from ${other}'s folder`,
  });
}

/** The real path of a reference, or an error naming the file and field when it is remote or leaves the repo. */
async function resolveReference(realRepo: string, dir: string, ref: KustomizeRef, file: string): Promise<string> {
  const where = { file, field: ref.field };
  if (isRemoteReference(ref.value)) {
    throw new BatonError("KUSTOMIZE_REMOTE", `remote reference "${ref.value}" is not allowed`, {
      ...where, hint: "vendor the remote content into the config repo so every render is reproducible from one revision",
    });
  }
  let real: string;
  try {
    real = await fs.realpath(path.resolve(dir, ref.value));
  } catch {
    // Not a local path: kustomize would try to fetch it (user@host:org/repo, a bare host name, …).
    throw new BatonError("PATH_TRAVERSAL", `"${ref.value}" is not a file or folder in the config repo`, {
      ...where, hint: "fix the path; remote references are not allowed, vendor them into the repo",
    });
  }
  if (real !== realRepo && !real.startsWith(realRepo + path.sep)) {
    throw new BatonError("PATH_TRAVERSAL", `"${ref.value}" resolves outside the config repo`, {
      ...where, hint: "reference only files and folders inside the config repo",
    });
  }
  return real;
}

/** The kustomize command, as an absolute path: $BATON_KUSTOMIZE, else `kustomize` on PATH, else `kubectl kustomize`. */
async function kustomizeCommand(): Promise<[string, string[]]> {
  const configured = process.env.BATON_KUSTOMIZE;
  if (configured) return [path.isAbsolute(configured) ? configured : (await onPath(configured)) ?? configured, ["build"]];
  for (const [bin, args] of [["kustomize", ["build"]], ["kubectl", ["kustomize"]]] as const) {
    const found = await onPath(bin);
    if (found) return [found, [...args]];
  }
  throw new BatonError("KUSTOMIZE_NOT_FOUND", "this environment has a kustomization.yaml but neither kustomize nor kubectl is on PATH", {
    hint: "install kustomize (go install sigs.k8s.io/kustomize/kustomize/v5@latest) or set BATON_KUSTOMIZE to its path",
  });
}

/** A proxy address nothing listens on: Go's HTTP client sends every non-loopback request there and fails. */
export const DEAD_PROXY = "http://127.0.0.1:9";

/**
 * The environment kustomize runs in: the second wall behind checkKustomizationTree. None of the agent's
 * variables (tokens, notification URLs) are passed on. HTTP(S) goes to a dead proxy (Go's client
 * bypasses proxies only for localhost and loopback addresses, which the tree check refuses), PATH is
 * empty so there is no `git` to clone remote bases with and no `helm`, and plugins are off.
 */
export function kustomizeEnv(): NodeJS.ProcessEnv {
  return {
    PATH: "/nonexistent",
    HOME: "/nonexistent",
    XDG_CONFIG_HOME: "/nonexistent",
    KUSTOMIZE_PLUGIN_HOME: "/nonexistent",
    HTTP_PROXY: DEAD_PROXY, HTTPS_PROXY: DEAD_PROXY, http_proxy: DEAD_PROXY, https_proxy: DEAD_PROXY,
    ALL_PROXY: DEAD_PROXY, NO_PROXY: "", no_proxy: "",
    GIT_ALLOW_PROTOCOL: "none",
  };
}

/** Runs `kustomize build DIR` offline and returns its YAML stream, cut off at the render byte limit and the timeout. */
export async function kustomizeBuild(repoDir: string, dir: string, limits: Limits = DEFAULT_LIMITS): Promise<string> {
  const [bin, args] = await kustomizeCommand();
  const relDir = relativeToRepo(repoDir, dir);
  return runOffline({
    bin, args: [...args, dir], env: kustomizeEnv(), relDir, step: "kustomize build",
    codes: { failed: "KUSTOMIZE_FAILED", timeout: "KUSTOMIZE_TIMEOUT" }, hint: `run \`kustomize build ${relDir}\` locally to see the full error`,
  }, limits);
}
