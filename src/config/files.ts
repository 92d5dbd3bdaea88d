/**
 * Reading a config repo from disk without letting it escape: repo-relative paths only,
 * symlinks must resolve inside the repo, size and count limits apply.
 */
import { promises as fs } from "node:fs";
import path from "node:path";
import { BatonError } from "../errors.js";
import { DEFAULT_LIMITS, type Limits } from "./limits.js";

/** Resolves a repo-relative path written by the user; rejects absolute paths and `..` escapes. */
export function resolveInRepo(repoDir: string, relative: string, where: { file: string; field: string }): string {
  const normalized = path.posix.normalize(relative.replace(/\\/g, "/"));
  if (path.isAbsolute(relative) || normalized === ".." || normalized.startsWith("../") || relative.split(/[\\/]/).includes("..")) {
    throw new BatonError("PATH_TRAVERSAL", `path "${relative}" leaves the config repo`, {
      ...where,
      hint: "use a path relative to the repo root without '..', e.g. environments/staging",
    });
  }
  return path.join(repoDir, normalized);
}

/** Throws unless `target` (after following symlinks) lies inside `root`. */
export async function assertInside(root: string, target: string, file: string): Promise<void> {
  const realRoot = await fs.realpath(root);
  let real: string;
  try {
    real = await fs.realpath(target);
  } catch {
    throw new BatonError("SYMLINK_ESCAPE", "symlink points to a file that does not exist", { file, hint: "remove the dangling symlink" });
  }
  if (real !== realRoot && !real.startsWith(realRoot + path.sep)) {
    throw new BatonError("SYMLINK_ESCAPE", "symlink points outside the config repo", {
      file,
      hint: "replace the symlink with the file itself; Baton reads only files inside the repo",
    });
  }
}

/** Repo-relative POSIX path, for messages and edits. */
export function relativeToRepo(repoDir: string, absolute: string): string {
  return path.relative(repoDir, absolute).split(path.sep).join("/");
}

export const isYamlFile = (name: string): boolean => /\.ya?ml$/i.test(name);

/**
 * Lists every YAML file under `dir` recursively, sorted by repo-relative path so rendering is stable.
 * Hidden entries (`.git`, `.github`) are skipped.
 */
export async function listYamlFiles(repoDir: string, dir: string, limits: Limits = DEFAULT_LIMITS): Promise<string[]> {
  const found: string[] = [];
  async function walk(current: string): Promise<void> {
    const entries = await fs.readdir(current, { withFileTypes: true });
    for (const entry of entries) {
      if (entry.name.startsWith(".")) continue;
      const full = path.join(current, entry.name);
      let isDir = entry.isDirectory();
      let isFile = entry.isFile();
      if (entry.isSymbolicLink()) {
        await assertInside(repoDir, full, relativeToRepo(repoDir, full));
        const stat = await fs.stat(full);
        isDir = stat.isDirectory();
        isFile = stat.isFile();
      }
      if (isDir) await walk(full);
      else if (isFile && isYamlFile(entry.name)) {
        found.push(full);
        if (found.length > limits.maxFiles) {
          throw new BatonError("TOO_MANY_FILES", `more than ${limits.maxFiles} YAML files`, {
            file: relativeToRepo(repoDir, dir),
            hint: "split the environment or raise the limit",
          });
        }
      }
    }
  }
  await walk(dir);
  return found.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

export async function readLimited(repoDir: string, file: string, limits: Limits = DEFAULT_LIMITS): Promise<string> {
  const stat = await fs.stat(file);
  if (stat.size > limits.maxFileBytes) {
    throw new BatonError("FILE_TOO_LARGE", `file is ${stat.size} bytes, over the ${limits.maxFileBytes}-byte limit`, {
      file: relativeToRepo(repoDir, file),
      hint: "split the file; very large manifests usually mean generated data that belongs elsewhere",
    });
  }
  return fs.readFile(file, "utf8");
}
