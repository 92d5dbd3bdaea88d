/** The promotion commands (pin, promote, rollback, merge, unreject, history, status, codeowners), registered together so program.ts changes by one line. */
import type { Command } from "commander";
import { registerCodeowners } from "./codeowners.js";
import { registerHistory } from "./history.js";
import { registerMerge } from "./merge.js";
import { registerPin } from "./pin.js";
import { registerPromote } from "./promote.js";
import { registerRollback } from "./rollback.js";
import { registerStatus } from "./status.js";

export function registerPromotionCommands(program: Command): void {
  registerPin(program);
  registerPromote(program);
  registerRollback(program);
  registerMerge(program);
  registerHistory(program);
  registerStatus(program);
  registerCodeowners(program);
}
