/** One hostile-YAML case in its own process: prints {ms, mb, bytes, outcome} as JSON. */
import { BatonError } from "../src/errors.js";
import { parseYamlDocs } from "../src/config/yaml-safe.js";
import { HOSTILE_CASES } from "./hostile-cases.js";

const name = process.argv[2] ?? "";
const make = HOSTILE_CASES[name];
if (!make) throw new Error(`unknown case ${name}`);
const text = make();
// Warm the parser on a small input so module loading and JIT warm-up are not billed to the case.
parseYamlDocs("a: [1, {b: c}]\n", "warmup");
const rssBefore = process.memoryUsage().rss;
const cpuBefore = process.cpuUsage();
const start = process.hrtime.bigint();
let outcome: string;
try {
  outcome = `accepted (${parseYamlDocs(text, "hostile.yaml").length} documents)`;
} catch (e) {
  outcome = e instanceof BatonError ? `refused ${e.code}` : `CRASHED ${e instanceof Error ? e.message : String(e)}`;
}
const ms = Number(process.hrtime.bigint() - start) / 1e6;
// CPU time is what the parse costs; wall time adds whatever else the machine's cores were doing.
const cpu = process.cpuUsage(cpuBefore);
const cpuMs = (cpu.user + cpu.system) / 1000;
const mb = Math.max(0, process.resourceUsage().maxRSS * 1024 - rssBefore) / 1e6;
// Baseline in the same process, after the case: JSON.parse of 2 MiB of JSON (the cheapest parse there is),
// so the ratio says how this machine's load inflated the figures.
const json = JSON.stringify(Array.from({ length: 50_000 }, (_, i) => ({ k: `value-${i}`, n: i, list: [1, 2] })));
const b = process.hrtime.bigint();
JSON.parse(json);
const baselineMs = Number(process.hrtime.bigint() - b) / 1e6;
process.stdout.write(JSON.stringify({ ms, cpuMs, mb, bytes: text.length, outcome, baselineMs }));
