/** Debian's chromium for the console's browser tests (.ci/run installs it; BATON_CHROMIUM points elsewhere). */
import { promises as fs } from "node:fs";

/** Root in CI: no sandbox. */
export const CHROMIUM_ARGS = ["--no-sandbox"];

export async function chromiumPath(): Promise<string> {
  const file = process.env.BATON_CHROMIUM ?? "/usr/bin/chromium";
  await fs.access(file).catch(() => {
    throw new Error(`no chromium at ${file}: apt-get install chromium (.ci/run does), or set BATON_CHROMIUM`);
  });
  return file;
}
