/** All `baton` commands, assembled; imported by the entry point and by the README's generated CLI reference. */
import { readFileSync } from "node:fs";
import { Command } from "commander";

type Register = (program: Command) => void;

/**
 * Each command's module, in the order `baton --help` lists them. Modules load only when their command runs:
 * `baton pin` must not pay for the Kubernetes client, which alone costs about a second of CPU to load and is
 * needed only by the agent, diff, status and the console. Every module registers the names listed beside it
 * (a unit test checks this against the full program).
 */
export const COMMAND_MODULES: readonly { names: readonly string[]; load: () => Promise<Register> }[] = [
  { names: ["init"], load: async () => (await import("./init.js")).registerInit },
  { names: ["validate"], load: async () => (await import("./validate.js")).registerValidate },
  { names: ["render"], load: async () => (await import("./render.js")).registerRender },
  { names: ["diff"], load: async () => (await import("./diff.js")).registerDiff },
  { names: ["policy"], load: async () => (await import("./policy.js")).registerPolicy },
  { names: ["agent"], load: async () => (await import("./agent.js")).registerAgent },
  { names: ["pin"], load: async () => (await import("./pin.js")).registerPin },
  { names: ["promote"], load: async () => (await import("./promote.js")).registerPromote },
  { names: ["rollback", "unreject"], load: async () => (await import("./rollback.js")).registerRollback },
  { names: ["merge"], load: async () => (await import("./merge.js")).registerMerge },
  { names: ["history"], load: async () => (await import("./history.js")).registerHistory },
  { names: ["status"], load: async () => (await import("./status.js")).registerStatus },
  { names: ["codeowners"], load: async () => (await import("./codeowners.js")).registerCodeowners },
  { names: ["confirm", "abort"], load: async () => (await import("./release.js")).registerReleaseCommands },
  { names: ["watch"], load: async () => (await import("./watch.js")).registerWatch },
  { names: ["console"], load: async () => (await import("./console.js")).registerConsole },
];

export function batonVersion(): string {
  // src/cli/ and dist/cli/ are both two levels below package.json.
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
  return pkg.version;
}

/**
 * The program with every command, or, given the process's argv, with only the command it names: its first
 * word that is not an option. `--version` alone gets none; help and a word that names no command get every
 * command, so help and "unknown command" suggestions list them all.
 */
export async function buildProgram(argv?: readonly string[]): Promise<Command> {
  const program = new Command();
  program
    .name("baton")
    .description("GitOps promotions: pin images by digest, promote them through environments with pull requests, reconcile clusters from git")
    .version(batonVersion(), "-v, --version")
    .showHelpAfterError()
    .exitOverride();
  const named = argv?.slice(2).find((a) => !a.startsWith("-"));
  const versionOnly = named === undefined && argv?.some((a) => a === "-v" || a === "--version") === true;
  const only = COMMAND_MODULES.filter((m) => named !== undefined && m.names.includes(named));
  const modules = versionOnly ? [] : only.length > 0 ? only : COMMAND_MODULES;
  for (const module of modules) (await module.load())(program);
  return program;
}
