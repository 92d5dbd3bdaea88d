/**
 * YAML that Baton prints for people and for other tools (`baton render`, `baton diff`): written with
 * YAML 1.1 rules, so every string that a YAML 1.1 reader (kubectl, kustomize) would take for a boolean,
 * a number or a date is quoted ("yes", "0400", "1_000", "2026-01-01") and the output means the same to
 * kubectl as to Baton. Numbers and booleans are written the same way in both versions.
 */
import { stringify } from "yaml";

export function toPortableYaml(value: unknown): string {
  return stringify(value, { lineWidth: 0, version: "1.1" });
}
