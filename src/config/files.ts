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

/**
 * What rendering a plain folder skips: files that are not YAML and hidden entries. Listed by
 * `baton validate`, so a `deployment.json` or `.hidden.yaml` is not silently left out.
 */
export async function listIgnoredFiles(repoDir: string, dir: string, limits: Limits = DEFAULT_LIMITS): Promise<string[]> {
  const ignored: string[] = [];
  async function walk(current: string): Promise<void> {
    for (const entry of await fs.readdir(current, { withFileTypes: true })) {
      const full = path.join(current, entry.name);
      if (ignored.length >= limits.maxFiles) return;
      if (entry.name.startsWith(".")) {
        if (entry.name !== ".gitkeep") ignored.push(`${relativeToRepo(repoDir, full)}${entry.isDirectory() ? "/" : ""}`);
      } else if (entry.isDirectory()) await walk(full);
      else if (!isYamlFile(entry.name)) ignored.push(relativeToRepo(repoDir, full));
    }
  }
  await walk(dir);
  return ignored.sort();
}

export async function readLimited(repoDir: string, file: string, limits: Limits = DEFAULT_LIMITS): Promise<string> {
  const stat = await fs.stat(file);
  if (stat.size > limits.maxFileBytes) {
    throw new BatonError("FILE_TOO_LARGE", `file is ${stat.size} bytes, over the ${limits.maxFileBytes}-byte limit`, {
      file: relativeToRepo(repoDir, file),
      hint: "split the file; very large manifests usually mean generated data that belongs elsewhere",
    });
  }
  return decodeUtf8(await fs.readFile(file), relativeToRepo(repoDir, file));
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * Config files must be UTF-8 (as for kubectl): a file that is not would be changed by reading and
 * writing it back, and a promotion must not touch any byte outside the digests it moves.
 */
export function decodeUtf8(bytes: Uint8Array, file: string): string {
  try {
    return utf8.decode(bytes);
  } catch {
    const offset = Math.max(0, firstBadByte(bytes));
    const line = new TextDecoder().decode(bytes.subarray(0, offset)).split("\n").length;
    throw new BatonError("FILE_NOT_UTF8", `byte 0x${(bytes[offset] ?? 0).toString(16).padStart(2, "0")} at line ${line} is not UTF-8`, {
      file, hint: "save the file as UTF-8 (e.g. iconv -f latin1 -t utf-8); Baton reads and edits UTF-8 only",
    });
  }
}

/** Where UTF-8 decoding first fails (for the message only; the strict decoder decides). */
function firstBadByte(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i] as number;
    const extra = c < 0x80 ? 0 : c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : -1;
    if (extra < 0) return i;
    for (let k = 1; k <= extra; k++) if (((b[i + k] ?? 0) & 0xc0) !== 0x80) return i;
    i += extra + 1;
  }
  return -1;
}
