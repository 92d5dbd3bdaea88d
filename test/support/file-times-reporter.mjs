/**
 * A node:test reporter that writes one line per test file, `<seconds> <file>`, from the runner's own
 * file-level completion event (setup and teardown included, unlike the per-test durations). test/run.ts
 * prints the slowest files of each lane: that is where `npm test` time goes. Plain JavaScript because
 * node loads reporters before tsx is registered.
 *
 * @param {AsyncIterable<{ type: string, data: { name?: string, file?: string, nesting?: number, details?: { duration_ms?: number } } }>} source
 */
export default async function* fileTimes(source) {
  for await (const event of source) {
    const { name, file, nesting, details } = event.data;
    if (event.type === "test:complete" && nesting === 0 && file !== undefined && name === file && details?.duration_ms !== undefined) {
      yield `${(details.duration_ms / 1000).toFixed(1)} ${file}\n`;
    }
  }
}
