/**
 * Errors are values users can act on: every failure Baton reports carries a stable `code`
 * (tests and `--output json` consumers match on it), the file/field or object it concerns, and a hint.
 */
export const ERROR_CODES = [
  // baton.yaml
  "PIPELINE_NOT_FOUND",
  "PIPELINE_SCHEMA",
  "PIPELINE_UNKNOWN_ENV",
  "PIPELINE_DUPLICATE_ENV",
  "PIPELINE_CYCLE",
  "PIPELINE_BAD_CRON",
  "PIPELINE_BAD_DURATION",
  "PIPELINE_STRATEGY",
  "PIPELINE_BAD_WAVE",
  // files and YAML
  "PATH_TRAVERSAL",
  "SYMLINK_ESCAPE",
  "FILE_TOO_LARGE",
  "TOO_MANY_FILES",
  "YAML_SYNTAX",
  "YAML_ALIAS_LIMIT",
  "YAML_TOO_DEEP",
  "YAML_TOO_MANY_DOCUMENTS",
  "YAML_TOO_MANY_NODES",
  "YAML_TOO_MANY_LINES",
  "YAML_SCALAR_TOO_LONG",
  "YAML_AMBIGUOUS",
  "YAML_UNSUPPORTED_TAG",
  "YAML_CONTROL_CHARACTER",
  "FILE_NOT_UTF8",
  "ENV_DIR_NOT_FOUND",
  // objects
  "OBJECT_NOT_A_MAP",
  "OBJECT_MISSING_FIELD",
  "OBJECT_INVALID_NAME",
  "OBJECT_DUPLICATE",
  // kustomize
  "KUSTOMIZE_NOT_FOUND",
  "KUSTOMIZE_FAILED",
  "KUSTOMIZE_REMOTE",
  "KUSTOMIZE_UNSUPPORTED",
  "KUSTOMIZE_TIMEOUT",
  // baton init
  "INIT_NO_ENVIRONMENTS",
  "INIT_EXISTS",
  // helm
  "HELM_NOT_FOUND",
  "HELM_FAILED",
  "HELM_TIMEOUT",
  "HELM_CHART_NOT_FOUND",
  "HELM_VALUES_NOT_FOUND",
  "CHART_SOURCE_NOT_ALLOWED",
  "CHART_DIGEST_MISMATCH",
  "CHART_BAD_ARTIFACT",
  "CHART_VERSION_NOT_FOUND",
  "CHART_FETCH_FAILED",
  // pins
  "PIN_NO_DIGEST",
  "PIN_LATEST",
  "PIN_BAD_DIGEST",
  "PIN_BAD_REFERENCE",
  "PIN_CONFLICT",
  "PIN_NOT_FOUND",
  "PIN_OUTSIDE_ENV",
  // promotions and policy
  "PROMOTE_ORDER",
  "PROMOTE_WAVE_NOT_READY",
  "PROMOTE_SOURCE_SPLIT",
  "PROMOTE_REJECTED_DIGEST",
  "PROMOTE_DIRECT_PUSH",
  "ROLLBACK_NOTHING",
  "ROLLBACK_CONFLICT",
  "ROLLBACK_SHARED_CHANGE",
  "MERGE_NOTHING",
  "MERGE_AMBIGUOUS",
  "MERGE_NOT_BATON",
  "MERGE_POLICY_PENDING",
  // progressive delivery (strategy + release.yaml)
  "RELEASE_SCHEMA",
  "RELEASE_MISMATCH",
  "RELEASE_NOTHING",
  "STRATEGY_ROUTE_NOT_FOUND",
  "STRATEGY_NO_WORKLOAD",
  "STRATEGY_UNSUPPORTED",
  // the agent's tenancy guards
  "OWNERSHIP_CONFLICT",
  "SCOPE_FORBIDDEN",
  "KUBE_FORBIDDEN",
  // environment boundaries in the config repo
  "ENV_OVERLAP",
  "OBJECT_FOREIGN_NAMESPACE",
  "ENV_CROSS_REFERENCE",
  // git / github / kube / agent
  // container registries and the supply chain
  "REGISTRY_UNREACHABLE",
  "REGISTRY_UNAUTHORIZED",
  "REGISTRY_NOT_FOUND",
  "REGISTRY_RATE_LIMITED",
  "REGISTRY_BAD_MANIFEST",
  "REGISTRY_FAILED",
  "REGISTRY_CREDENTIALS",
  "WATCH_NO_MATCH",
  "SIGNATURE_MISSING",
  "SIGNATURE_INVALID",
  "SIGNATURE_KEY_INVALID",
  "COMMIT_VERIFICATION_FAILED",
  "COMMIT_KEYS_INVALID",
  "NON_FAST_FORWARD",
  "GIT_FAILED",
  "GIT_URL_NOT_ALLOWED",
  "GIT_PUSH_REJECTED",
  "GIT_DIRTY",
  "GIT_DIVERGED",
  "GITHUB_FAILED",
  "GITHUB_TOKEN_MISSING",
  "GITHUB_MERGE_REFUSED",
  "KUBE_FAILED",
  "KUBECONFIG_NOT_FOUND",
  "KUBECONFIG_INVALID",
  "KUBE_UNKNOWN_KIND",
  "HEALTH_TIMEOUT",
  "USAGE",
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface ErrorDetails {
  /** Repo-relative file the problem is in. */
  file?: string;
  /** Dotted field path inside the file or object, e.g. `environments[1].promoteFrom`. */
  field?: string;
  /** Kubernetes object identity, e.g. `apps/v1 Deployment web/api`. */
  object?: string;
  /** What the user should do about it. */
  hint?: string;
  cause?: unknown;
}

export class BatonError extends Error {
  readonly code: ErrorCode;
  readonly file?: string;
  readonly field?: string;
  readonly object?: string;
  readonly hint?: string;

  constructor(code: ErrorCode, message: string, details: ErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = "BatonError";
    this.code = code;
    if (details.file !== undefined) this.file = details.file;
    if (details.field !== undefined) this.field = details.field;
    if (details.object !== undefined) this.object = details.object;
    if (details.hint !== undefined) this.hint = details.hint;
  }

  /** One line for humans: `file:field: message (CODE) — hint`. */
  oneLine(): string {
    const where = [this.file, this.field].filter(Boolean).join(": ");
    const subject = this.object ? ` [${this.object}]` : "";
    const hint = this.hint ? ` — ${this.hint}` : "";
    return `${where ? `${where}: ` : ""}${this.message}${subject} (${this.code})${hint}`;
  }

  toJSON(): Record<string, string> {
    const out: Record<string, string> = { code: this.code, message: this.message };
    if (this.file) out.file = this.file;
    if (this.field) out.field = this.field;
    if (this.object) out.object = this.object;
    if (this.hint) out.hint = this.hint;
    return out;
  }
}

/** Several problems found at once (validation reports every problem, not just the first). */
export class BatonErrors extends Error {
  constructor(readonly errors: BatonError[]) {
    super(errors.map((e) => e.oneLine()).join("\n"));
    this.name = "BatonErrors";
  }
}
