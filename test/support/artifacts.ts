/**
 * Where tests keep what a person reads after the run (screenshots, the control plane's and agents' logs).
 * test/run.ts gives every run a temp dir of its own and removes it at the end, so nothing a test forgets
 * piles up in /tmp; artifacts live outside it, in BATON_TEST_ARTIFACTS (default <tmp>/baton-test-artifacts).
 */
import { mkdirSync } from "node:fs";
import os from "node:os";
import path from "node:path";

export function artifactsDir(): string {
  const dir = process.env.BATON_TEST_ARTIFACTS ?? path.join(os.tmpdir(), "baton-test-artifacts");
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** A path for an artifact named `name` (kept after the run). */
export function artifactPath(name: string): string {
  return path.join(artifactsDir(), name);
}
