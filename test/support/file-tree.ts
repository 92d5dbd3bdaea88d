/** A folder of files (and symlinks) in a fresh temp dir, for tests that read a repository from disk. */
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";

/** `files`: path → text; `links`: path → symlink target. Returns the folder. */
export async function writeTree(prefix: string, files: Record<string, string>, links: Record<string, string> = {}): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), prefix));
  for (const [file, text] of Object.entries(files)) {
    await fs.mkdir(path.dirname(path.join(dir, file)), { recursive: true });
    await fs.writeFile(path.join(dir, file), text);
  }
  for (const [link, target] of Object.entries(links)) {
    await fs.mkdir(path.dirname(path.join(dir, link)), { recursive: true });
    await fs.symlink(target, path.join(dir, link));
  }
  return dir;
}
