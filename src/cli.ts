#!/usr/bin/env node
/** Entry point of the `baton` command line. Commands live in cli/, one file each. */
import { CommanderError } from "commander";
import { buildProgram } from "./cli/program.js";
import { reportErrors } from "./cli/output.js";

function wantsJson(argv: string[]): boolean {
  return argv.some((a, i) => a === "--output=json" || a === "-o=json" || ((a === "-o" || a === "--output") && argv[i + 1] === "json"));
}

async function main(argv: string[]): Promise<number> {
  try {
    await (await buildProgram(argv)).parseAsync(argv);
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2; // commander already printed help/usage
    return reportErrors(e, wantsJson(argv) ? "json" : "text");
  }
}

process.exitCode = await main(process.argv);
