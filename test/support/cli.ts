/**
 * How tests run the `baton` CLI: as a child process, the way a user or the image runs it. Under `npm test` the
 * runner compiles src/ once per run and points BATON_TEST_CLI at that cli.js, so a spawn is a plain node start
 * (about 0.5 s of CPU); a test file run on its own falls back to tsx on src/cli.ts, which compiles the module
 * graph through its loader hooks at every spawn (about 1.2 s for a command, 4 s for `--help`, measured).
 */
import path from "node:path";

const repoRoot = path.resolve(import.meta.dirname, "../..");

/** The node arguments that start the CLI with `args`: spawn `process.execPath` with them. */
export function cliArgs(...args: string[]): string[] {
  const built = process.env.BATON_TEST_CLI;
  return built ? [built, ...args] : ["--import", "tsx", path.join(repoRoot, "src/cli.ts"), ...args];
}
