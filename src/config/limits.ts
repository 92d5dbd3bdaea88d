/** Limits that keep a hostile or broken config repo from exhausting the agent. Overridable for tests. */
export interface Limits {
  /** Largest YAML file read (or named by a kustomization), in bytes. */
  maxFileBytes: number;
  /** Most files read from one environment folder (or named by one kustomization tree). */
  maxFiles: number;
  /** Largest rendered YAML stream of one environment (`kustomize build` output), in bytes. */
  maxRenderBytes: number;
  /** Most YAML aliases resolved per document (alias bombs expand exponentially). */
  maxAliases: number;
  /** How long `kustomize build` may run. */
  kustomizeTimeoutMs: number;
}

export const DEFAULT_LIMITS: Limits = {
  maxFileBytes: 2 * 1024 * 1024,
  maxFiles: 5_000,
  maxRenderBytes: 16 * 1024 * 1024,
  maxAliases: 100,
  kustomizeTimeoutMs: 60_000,
};
