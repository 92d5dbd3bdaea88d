/**
 * Compiles the repository's TypeScript (src/, test/, scripts/) once per test run into a throwaway tree, so
 * test files and the CLI they spawn run on plain node instead of tsx: tsx's loader hooks cost about 0.6 s of
 * CPU per test process and 1 s per CLI spawn (measured), and `npm test` is CPU-bound. esbuild transforms
 * each file the way tsx does (type errors are the type-check's job, which runs beside the tests).
 *
 * Each compiled file keeps its source's location for `import.meta.dirname`, `import.meta.url` and
 * `import.meta.filename`, so fixtures, assets and package.json are read from the repository as before;
 * relative imports reach the compiled neighbours, and package imports the repository's node_modules
 * (linked into the tree). `BATON_TEST_TSX=1` runs everything through tsx instead.
 */
import { promises as fs } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { build, type Plugin } from "esbuild";

/** `import.meta.dirname`, `.filename` and `.url` (spelled in pieces so this file does not match itself). */
const META = new RegExp(`\\b${"import"}\\.meta\\.(dirname|filename|url)\\b`, "g");

/** Replaces `import.meta.*` location reads with the source file's own location. */
function sourceLocation(): Plugin {
  return {
    name: "source-location",
    setup(b) {
      b.onLoad({ filter: /\.ts$/ }, async (args) => {
        const location: Record<string, string> = { dirname: path.dirname(args.path), filename: args.path, url: pathToFileURL(args.path).href };
        const contents = (await fs.readFile(args.path, "utf8")).replace(META, (_, key: string) => JSON.stringify(location[key]));
        return { contents, loader: "ts" };
      });
    },
  };
}

export interface CompiledTree {
  /** The compiled file that stands for a repository .ts file. */
  compiled: (source: string) => string;
  /** The CLI, for test/support/cli.ts. */
  cli: string;
}

export async function compileRepo(repoRoot: string, dir: string): Promise<CompiledTree> {
  await build({
    absWorkingDir: repoRoot,
    entryPoints: ["src/**/*.ts", "test/**/*.ts", "scripts/**/*.ts"],
    outbase: ".",
    outdir: dir,
    format: "esm",
    platform: "node",
    target: "node20",
    plugins: [sourceLocation()],
    logLevel: "warning",
  });
  // ESM like the repository (its package.json has "type": "module"), and package imports resolve from here.
  await fs.writeFile(path.join(dir, "package.json"), JSON.stringify({ type: "module", private: true }));
  await fs.symlink(path.join(repoRoot, "node_modules"), path.join(dir, "node_modules"));
  const compiled = (source: string) => path.join(dir, path.relative(repoRoot, source)).replace(/\.ts$/, ".js");
  return { compiled, cli: compiled(path.join(repoRoot, "src/cli.ts")) };
}
