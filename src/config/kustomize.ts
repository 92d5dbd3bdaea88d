/**
 * Kustomize support: detecting a kustomization, checking that it stays inside the repo, and running
 * the `kustomize` binary (or `kubectl kustomize`) found on PATH.
 */
import { execFile } from "node:child_process";
import { promises as fs } from "node:fs";
import path from "node:path";
import { BatonError } from "../errors.js";
import { relativeToRepo, readLimited } from "./files.js";
import { parseYamlDocs } from "./yaml-safe.js";
import { DEFAULT_LIMITS, type Limits } from "./limits.js";

export const KUSTOMIZATION_FILES = ["kustomization.yaml", "kustomization.yml", "Kustomization"];

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

const PATH_FIELDS = ["resources", "bases", "components", "patchesStrategicMerge", "crds", "configurations"] as const;

/**
 * Walks the kustomization tree and rejects references that leave the repo or fetch remote content:
 * the agent renders offline and only from the revision it fetched.
 */
export async function checkKustomizationTree(repoDir: string, kustomizationFile: string, limits: Limits = DEFAULT_LIMITS, seen = new Set<string>()): Promise<void> {
  if (seen.has(kustomizationFile)) return;
  seen.add(kustomizationFile);
  const rel = relativeToRepo(repoDir, kustomizationFile);
  const docs = parseYamlDocs(await readLimited(repoDir, kustomizationFile, limits), rel, limits);
  const k = docs[0]?.value ?? {};
  const dir = path.dirname(kustomizationFile);
  const realRepo = await fs.realpath(repoDir);
  for (const field of PATH_FIELDS) {
    const entries = k[field];
    if (!Array.isArray(entries)) continue;
    for (const [i, entry] of entries.entries()) {
      if (typeof entry !== "string") continue;
      const where = { file: rel, field: `${field}[${i}]` };
      if (/^[a-z][a-z0-9+.-]*:\/\//i.test(entry) || /^(github\.com|gitlab\.com|bitbucket\.org)\//.test(entry) || entry.startsWith("git@")) {
        throw new BatonError("PATH_TRAVERSAL", `remote resource "${entry}" is not allowed`, {
          ...where, hint: "vendor the remote base into the config repo so every render is reproducible from one revision",
        });
      }
      const target = path.resolve(dir, entry);
      let real: string;
      try {
        real = await fs.realpath(target);
      } catch {
        // Not a local path: kustomize would try to clone it (git::…, user@host:org/repo, …).
        throw new BatonError("PATH_TRAVERSAL", `"${entry}" is not a file or folder in the config repo`, {
          ...where, hint: "fix the path; remote bases are not allowed, vendor them into the repo",
        });
      }
      if (real !== realRepo && !real.startsWith(realRepo + path.sep)) {
        throw new BatonError("PATH_TRAVERSAL", `"${entry}" resolves outside the config repo`, {
          ...where, hint: "reference only files and folders inside the config repo",
        });
      }
      const nested = await findKustomization(real).catch(() => undefined);
      if (nested) await checkKustomizationTree(repoDir, nested, limits, seen);
    }
  }
}

/** The kustomize command: $BATON_KUSTOMIZE, else `kustomize` on PATH, else `kubectl kustomize`. */
async function kustomizeCommand(): Promise<[string, string[]]> {
  if (process.env.BATON_KUSTOMIZE) return [process.env.BATON_KUSTOMIZE, ["build"]];
  for (const [bin, args] of [["kustomize", ["build"]], ["kubectl", ["kustomize"]]] as const) {
    if (await onPath(bin)) return [bin, [...args]];
  }
  throw new BatonError("KUSTOMIZE_NOT_FOUND", "this environment has a kustomization.yaml but neither kustomize nor kubectl is on PATH", {
    hint: "install kustomize (go install sigs.k8s.io/kustomize/kustomize/v5@latest) or set BATON_KUSTOMIZE to its path",
  });
}

async function onPath(bin: string): Promise<boolean> {
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    if (!dir) continue;
    try {
      await fs.access(path.join(dir, bin), fs.constants.X_OK);
      return true;
    } catch {
      // keep looking
    }
  }
  return false;
}

/** Runs `kustomize build DIR` and returns its YAML stream. */
export async function kustomizeBuild(repoDir: string, dir: string, limits: Limits = DEFAULT_LIMITS): Promise<string> {
  const [bin, args] = await kustomizeCommand();
  return new Promise((resolve, reject) => {
    execFile(bin, [...args, dir], { maxBuffer: limits.maxFileBytes * 16, timeout: 60_000, env: { ...process.env, KUSTOMIZE_PLUGIN_HOME: "/nonexistent" } }, (err, stdout, stderr) => {
      if (err) {
        reject(new BatonError("KUSTOMIZE_FAILED", `kustomize build failed: ${(stderr || err.message).trim().split("\n").slice(-3).join(" ")}`, {
          file: relativeToRepo(repoDir, dir),
          hint: `run \`${bin} ${args.join(" ")} ${relativeToRepo(repoDir, dir)}\` locally to see the full error`,
        }));
        return;
      }
      resolve(stdout);
    });
  });
}
