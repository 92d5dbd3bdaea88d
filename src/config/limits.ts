/** Limits that keep a hostile or broken config repo from exhausting the agent. Overridable for tests. */
export interface Limits {
  /** Largest YAML file read, in bytes. */
  maxFileBytes: number;
  /** Most files read from one environment folder. */
  maxFiles: number;
  /** Most YAML aliases resolved per document (alias bombs expand exponentially). */
  maxAliases: number;
}

export const DEFAULT_LIMITS: Limits = { maxFileBytes: 2 * 1024 * 1024, maxFiles: 5_000, maxAliases: 100 };
