/** The promotion commands (pin, promote, rollback, unreject, history, status, codeowners), registered together so program.ts changes by one line. */
import type { Command } from "commander";
import { registerCodeowners } from "./codeowners.js";
import { registerPin } from "./pin.js";
import { registerPromote } from "./promote.js";
import { registerRollback } from "./rollback.js";

export function registerPromotionCommands(program: Command): void {
  registerPin(program);
  registerPromote(program);
  registerRollback(program);
  registerCodeowners(program);
}
