/**
 * How tests run the `baton` CLI: as a child process, the way a user or the image runs it. Under `npm test` the
 * runner compiles the repository once per run (test/support/compile-repo.ts) and points BATON_TEST_CLI at the
 * compiled cli.js, so a spawn is a plain node start (about 0.5 s of CPU); without it (BATON_TEST_TSX=1) the
 * CLI runs through tsx, whose loader hooks cost about 1 s more per spawn (4 s for `--help`, measured).
 */
import path from "node:path";

const repoRoot = path.resolve(import.meta.dirname, "../..");

/** The node arguments that start the CLI with `args`: spawn `process.execPath` with them. */
export function cliArgs(...args: string[]): string[] {
  const built = process.env.BATON_TEST_CLI;
  return built ? [built, ...args] : ["--import", "tsx", path.join(repoRoot, "src/cli.ts"), ...args];
}
