/**
 * Compiles src/ once per test run into a throwaway package (`<dir>/dist/cli.js`, with package.json and the
 * console's assets beside it, and node_modules linked), for test/support/cli.ts. esbuild transforms each file
 * the same way tsx does, so the spawned CLI runs the same code as one started through tsx; type errors are
 * the type-check's job, which runs beside the tests.
 */
import { promises as fs } from "node:fs";
import path from "node:path";
import { build } from "esbuild";

export async function buildCli(repoRoot: string, dir: string): Promise<string> {
  const dist = path.join(dir, "dist");
  await build({
    absWorkingDir: repoRoot,
    entryPoints: ["src/**/*.ts"],
    outbase: "src",
    outdir: dist,
    format: "esm",
    platform: "node",
    target: "node20",
    sourcemap: true,
    logLevel: "warning",
  });
  // Laid out like the published package: src/cli/program.ts reads ../../package.json, the console serves
  // ./assets next to its server module.
  await fs.copyFile(path.join(repoRoot, "package.json"), path.join(dir, "package.json"));
  await fs.cp(path.join(repoRoot, "src/console/assets"), path.join(dist, "console/assets"), { recursive: true });
  await fs.symlink(path.join(repoRoot, "node_modules"), path.join(dir, "node_modules"));
  return path.join(dist, "cli.js");
}
