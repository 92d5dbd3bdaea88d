/**
 * Shared CLI plumbing: `--output text|json`, `--repo DIR`, one-line errors and exit codes.
 * Exit codes: 0 ok, 1 a problem Baton found (validation, policy, conflict), 2 bad usage, 3 an outside failure (git, GitHub, cluster).
 */
import path from "node:path";
import { z } from "zod";
import { BatonError, BatonErrors } from "../errors.js";
import { scrubSecrets } from "../util/secrets.js";

export const OutputSchema = z.enum(["text", "json"]);
export type OutputFormat = z.infer<typeof OutputSchema>;

export interface CommonOptions {
  repo: string;
  output: OutputFormat;
}

export function commonOptions(raw: { repo?: string; output?: string }): CommonOptions {
  const output = OutputSchema.safeParse(raw.output ?? "text");
  if (!output.success) throw new BatonError("USAGE", `--output must be text or json, not "${raw.output}"`, { field: "--output", hint: "use --output json for machines" });
  return { repo: path.resolve(raw.repo ?? process.cwd()), output: output.data };
}

const OUTSIDE = new Set(["GIT_FAILED", "GITHUB_FAILED", "KUBE_FAILED", "GITHUB_TOKEN_MISSING", "REGISTRY_UNREACHABLE", "REGISTRY_RATE_LIMITED", "REGISTRY_FAILED"]);

export function exitCodeFor(errors: BatonError[]): number {
  if (errors.some((e) => e.code === "USAGE")) return 2;
  if (errors.some((e) => OUTSIDE.has(e.code))) return 3;
  return 1;
}

/** Prints errors (one line each, or JSON) and returns the exit code. */
export function reportErrors(e: unknown, output: OutputFormat): number {
  const errors = e instanceof BatonErrors ? e.errors : e instanceof BatonError ? [e] : [new BatonError("USAGE", e instanceof Error ? e.message : String(e))];
  if (!(e instanceof BatonError) && !(e instanceof BatonErrors) && !(e instanceof Error && e.name === "CommanderError")) {
    // Unexpected: keep the stack for bug reports, but still end with one clear line.
    if (process.env.BATON_DEBUG) console.error(e);
    errors[0] = new BatonError("USAGE", `internal error: ${e instanceof Error ? e.message : String(e)}`, { hint: "rerun with BATON_DEBUG=1 and report the stack trace" });
  }
  if (output === "json") process.stdout.write(`${scrubSecrets(JSON.stringify({ ok: false, errors: errors.map((x) => x.toJSON()) }, null, 2))}\n`);
  else for (const err of errors) process.stderr.write(`error: ${scrubSecrets(err.oneLine())}\n`);
  return exitCodeFor(errors);
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** A plain text table with aligned columns. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join("  ").trimEnd();
  return [line(headers), ...rows.map(line)].join("\n");
}
