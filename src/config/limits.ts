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
  /** Deepest YAML nesting accepted (the parser recurses once per level). */
  maxDepth: number;
  /** Most YAML documents in one file or rendered stream. */
  maxDocuments: number;
  /** Most lines in one YAML file (or one object of a kustomize build), blank and comment lines included. */
  maxLines: number;
  /** Most YAML nodes in one file (or one object of a kustomize build); bounds parse time and memory. */
  maxNodes: number;
  /** All double-quoted YAML scalars of one file together, in characters. */
  maxDoubleQuotedTotal: number;
  /**
   * Aliases × nodes per file: the parser searches the whole document for each alias's anchor, so a
   * hundred aliases are fine in a small manifest and ten in a large one.
   */
  maxAliasWork: number;
  /** Longest double-quoted YAML scalar, in characters (the parser slows down on longer ones). */
  maxDoubleQuoted: number;
  /** How long `kustomize build` may run. */
  kustomizeTimeoutMs: number;
}

export const DEFAULT_LIMITS: Limits = {
  maxFileBytes: 2 * 1024 * 1024,
  maxFiles: 5_000,
  maxRenderBytes: 16 * 1024 * 1024,
  maxAliases: 100,
  maxDepth: 64,
  maxDocuments: 10_000,
  maxLines: 40_000,
  maxNodes: 20_000,
  maxDoubleQuoted: 64 * 1024,
  maxDoubleQuotedTotal: 1024 * 1024,
  maxAliasWork: 200_000,
  kustomizeTimeoutMs: 60_000,
};
