/**
 * Generates the README's CLI reference from the command definitions, so it cannot drift:
 * `npm run docs` rewrites the block between the cli-reference markers; a unit test fails when it is stale.
 */
import { promises as fs } from "node:fs";
import path from "node:path";
import { buildProgram } from "../src/cli/program.js";

const START = "<!-- cli-reference:start -->";
const END = "<!-- cli-reference:end -->";

export async function cliReference(): Promise<string> {
  const program = await buildProgram();
  program.configureHelp({ helpWidth: 110 });
  const sections = program.commands.map((cmd) => {
    cmd.configureHelp({ helpWidth: 110 });
    return `### \`baton ${cmd.name()}\`\n\n\`\`\`\n${cmd.helpInformation().trimEnd()}\n\`\`\``;
  });
  return [START, "", ...sections.flatMap((s) => [s, ""]), END].join("\n");
}

export async function withCliReference(readme: string): Promise<string> {
  const start = readme.indexOf(START);
  const end = readme.indexOf(END);
  if (start === -1 || end === -1) throw new Error("README.md has no cli-reference markers");
  return readme.slice(0, start) + (await cliReference()) + readme.slice(end + END.length);
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) {
  const file = path.resolve(import.meta.dirname, "../README.md");
  await fs.writeFile(file, await withCliReference(await fs.readFile(file, "utf8")));
  console.log("updated the CLI reference in README.md");
}
