/** All `baton` commands, assembled; imported by the entry point and by the README's generated CLI reference. */
import { readFileSync } from "node:fs";
import { Command } from "commander";
import { registerValidate } from "./validate.js";
import { registerInit } from "./init.js";
import { registerRender } from "./render.js";
import { registerAgent } from "./agent.js";
import { registerDiff } from "./diff.js";
import { registerPolicy } from "./policy.js";
import { registerPromotionCommands } from "./promotion-commands.js";
import { registerReleaseCommands } from "./release.js";
import { registerConsole } from "./console.js";
import { registerWatch } from "./watch.js";

export function batonVersion(): string {
  // src/cli/ and dist/cli/ are both two levels below package.json.
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
  return pkg.version;
}

export function buildProgram(): Command {
  const program = new Command();
  program
    .name("baton")
    .description("GitOps promotions: pin images by digest, promote them through environments with pull requests, reconcile clusters from git")
    .version(batonVersion(), "-v, --version")
    .showHelpAfterError()
    .exitOverride();
  registerInit(program);
  registerValidate(program);
  registerRender(program);
  registerDiff(program);
  registerPolicy(program);
  registerAgent(program);
  registerPromotionCommands(program);
  registerReleaseCommands(program);
  registerWatch(program);
  registerConsole(program);
  return program;
}
