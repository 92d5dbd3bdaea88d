/**
 * What a run's outcome means, derived from the step results alone (pure): interrupted (the term ended:
 * write nothing), failed at a named step (Stalled when only a git change can fix it, otherwise retried),
 * superseded by a newer commit during the health wait, or settled with the health verdict.
 */
import { BatonError, BatonErrors } from "../../errors.js";
import type { HealthStatus } from "../../kube/health/index.js";
import { scrubSecrets } from "../../util/secrets.js";
import type { HealthOutcome } from "./context.js";
import type { Outcome, StepName, StepOutputs } from "./sequence.js";

/** Where a run failed: one of the steps, or the Environment's spec before any step ran. */
export type FailedAt = StepName | "spec";

export type Verdict =
  | { kind: "interrupted"; step: FailedAt }
  | { kind: "failed"; step: FailedAt; error: BatonError; stalled: boolean; message: string; readyReason: string }
  | { kind: "superseded"; waited?: string }
  | { kind: "settled"; ready: boolean; health: HealthStatus; notReady: string; waited?: string };

const STALLING_CODES = new Set(["ENV_OVERLAP", "ENV_CROSS_REFERENCE", "PIPELINE_SCHEMA", "PIPELINE_UNKNOWN_ENV", "PIPELINE_CYCLE", "PIPELINE_BAD_CRON", "PIPELINE_BAD_DURATION", "PIPELINE_DUPLICATE_ENV", "PIPELINE_STRATEGY",
  "RELEASE_SCHEMA", "RELEASE_MISMATCH", "STRATEGY_ROUTE_NOT_FOUND", "STRATEGY_NO_WORKLOAD", "STRATEGY_UNSUPPORTED",
  "PATH_TRAVERSAL", "SYMLINK_ESCAPE", "FILE_TOO_LARGE", "TOO_MANY_FILES", "YAML_SYNTAX", "YAML_ALIAS_LIMIT", "YAML_TOO_DEEP", "YAML_TOO_MANY_DOCUMENTS", "YAML_TOO_MANY_NODES", "YAML_TOO_MANY_LINES", "YAML_SCALAR_TOO_LONG", "YAML_AMBIGUOUS", "YAML_UNSUPPORTED_TAG", "YAML_CONTROL_CHARACTER", "FILE_NOT_UTF8", "ENV_DIR_NOT_FOUND", "OBJECT_NOT_A_MAP",
  "OBJECT_MISSING_FIELD", "OBJECT_INVALID_NAME", "OBJECT_DUPLICATE", "GIT_URL_NOT_ALLOWED", "KUSTOMIZE_FAILED", "KUSTOMIZE_REMOTE", "KUSTOMIZE_UNSUPPORTED", "HELM_FAILED", "HELM_CHART_NOT_FOUND", "HELM_VALUES_NOT_FOUND", "CHART_SOURCE_NOT_ALLOWED", "CHART_DIGEST_MISMATCH", "CHART_BAD_ARTIFACT", "CHART_VERSION_NOT_FOUND", "PIN_NO_DIGEST", "PIN_LATEST", "PIN_BAD_DIGEST",
  "PIN_BAD_REFERENCE", "PIN_CONFLICT", "KUBE_UNKNOWN_KIND", "OWNERSHIP_CONFLICT", "SCOPE_FORBIDDEN", "KUBE_FORBIDDEN"]);

/** Ready reasons of the tenancy guards, so `kubectl get environments` says which guard stopped it. */
const GUARD_REASONS: Partial<Record<string, string>> = { OWNERSHIP_CONFLICT: "OwnershipConflict", SCOPE_FORBIDDEN: "ScopeForbidden", KUBE_FORBIDDEN: "Forbidden" };

/** Ready reasons of retried failures that are not plain reconcile errors. */
const RETRY_REASONS: Partial<Record<string, string>> = {
  GIT_FAILED: "GitOperationFailed", SIGNATURE_MISSING: "SignatureVerificationFailed", SIGNATURE_INVALID: "SignatureVerificationFailed", SIGNATURE_KEY_INVALID: "SignatureVerificationFailed",
  COMMIT_VERIFICATION_FAILED: "CommitVerificationFailed", COMMIT_KEYS_INVALID: "CommitVerificationFailed", NON_FAST_FORWARD: "NonFastForward",
};

/** A failure at `step`; when the term already ended, an interruption (a deposed leader's errors are not the Environment's). */
export function failureVerdict(step: FailedAt, error: unknown, aborted: boolean): Verdict {
  if (aborted) return { kind: "interrupted", step };
  const errors = error instanceof BatonErrors ? error.errors : [error instanceof BatonError ? error : new BatonError("KUBE_FAILED", error instanceof Error ? error.message : String(error))];
  const first = errors[0] as BatonError;
  const stalled = errors.every((x) => STALLING_CODES.has(x.code));
  const message = scrubSecrets(errors.map((x) => x.oneLine()).join("; ")).slice(0, 2000);
  const readyReason = stalled ? (GUARD_REASONS[first.code] ?? "ValidationFailed") : (RETRY_REASONS[first.code] ?? "ReconciliationFailed");
  return { kind: "failed", step, error: first, stalled, message, readyReason };
}

export function healthVerdict(health: HealthOutcome): Verdict {
  const waited = health.kind !== "interrupted" && health.waited !== undefined ? { waited: health.waited } : {};
  switch (health.kind) {
    case "interrupted": return { kind: "interrupted", step: "health" };
    case "superseded": return { kind: "superseded", ...waited };
    case "settled": return { kind: "settled", ready: health.status === "Current", health: health.status, notReady: health.notReady, ...waited };
  }
}

export function verdict<O extends StepOutputs & { health: HealthOutcome }>(outcome: Outcome<O>, aborted: boolean): Verdict {
  return outcome.ok ? healthVerdict(outcome.done.health) : failureVerdict(outcome.step, outcome.error, aborted);
}
