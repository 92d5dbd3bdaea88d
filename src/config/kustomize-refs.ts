/**
 * Every place a kustomization (or a builtin generator/transformer config) can name a file, folder or
 * URL. Pure: lists references; kustomize.ts checks each one on disk. A field missing here is a field
 * kustomize could fetch from, so the list follows kustomize's Kustomization type field by field
 * (sigs.k8s.io/kustomize/api/types/kustomization.go) and its builtin plugin configs.
 */

export interface KustomizeRef {
  /** Field path inside the file, e.g. `patches[2].path`. */
  field: string;
  value: string;
  /** What the target's contents are: resources may hold kustomizations; plugin configs name more files. */
  role: "resource" | "plugin" | "file";
}

export interface UnsupportedField {
  field: string;
  message: string;
  hint: string;
}

export interface KustomizeRefs {
  refs: KustomizeRef[];
  unsupported: UnsupportedField[];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * Entries of `patchesStrategicMerge`, `transformers`, `generators` and `validators` may be inline YAML
 * instead of a path; kustomize reads them as content, so there is nothing to fetch.
 */
export const isInlineContent = (s: string): boolean => s.includes("\n") || /^\s*[{[]/.test(s);

/** Helm charts are pulled from chart repositories (and need `--enable-helm`, which Baton never passes). */
const HELM_FIELDS = ["helmCharts", "helmChartInflationGenerator", "helmGlobals"];
const HELM_HINT = "render the chart into the config repo (helm template … > environments/<env>/chart.yaml) so every render is reproducible from one revision";

function stringList(value: unknown, field: string, role: KustomizeRef["role"], out: KustomizeRef[], allowInline = false): void {
  if (!Array.isArray(value)) return;
  value.forEach((entry, i) => {
    if (typeof entry !== "string") return;
    if (allowInline && isInlineContent(entry)) return;
    out.push({ field: `${field}[${i}]`, value: entry, role });
  });
}

function pathOf(value: unknown, field: string, out: KustomizeRef[]): void {
  if (isObj(value) && typeof value.path === "string") out.push({ field: `${field}.path`, value: value.path, role: "file" });
}

/** `files:` entries are `path` or `key=path`; `envs:` and the older `env:` are paths. */
function generatorFiles(gen: Obj, field: string, out: KustomizeRef[]): void {
  if (Array.isArray(gen.files)) {
    gen.files.forEach((entry, i) => {
      if (typeof entry !== "string") return;
      const eq = entry.indexOf("=");
      out.push({ field: `${field}.files[${i}]`, value: eq === -1 ? entry : entry.slice(eq + 1), role: "file" });
    });
  }
  stringList(gen.envs, `${field}.envs`, "file", out);
  if (typeof gen.env === "string" && gen.env !== "") out.push({ field: `${field}.env`, value: gen.env, role: "file" });
}

/** References in a kustomization.yaml (kind Kustomization or Component). */
export function kustomizationRefs(k: Obj): KustomizeRefs {
  const refs: KustomizeRef[] = [];
  const unsupported: UnsupportedField[] = [];
  stringList(k.resources, "resources", "resource", refs);
  stringList(k.bases, "bases", "resource", refs);
  stringList(k.components, "components", "resource", refs);
  stringList(k.crds, "crds", "file", refs);
  stringList(k.configurations, "configurations", "file", refs);
  stringList(k.patchesStrategicMerge, "patchesStrategicMerge", "file", refs, true);
  for (const field of ["transformers", "generators", "validators"]) stringList(k[field], field, "plugin", refs, true);
  for (const field of ["patches", "patchesJson6902", "replacements"]) {
    const list = k[field];
    if (Array.isArray(list)) list.forEach((entry, i) => pathOf(entry, `${field}[${i}]`, refs));
  }
  for (const field of ["configMapGenerator", "secretGenerator"]) {
    const list = k[field];
    if (Array.isArray(list)) list.forEach((gen, i) => { if (isObj(gen)) generatorFiles(gen, `${field}[${i}]`, refs); });
  }
  pathOf(k.openapi, "openapi", refs);
  for (const field of HELM_FIELDS) {
    if (k[field] !== undefined) unsupported.push({ field, message: `${field} is not supported (kustomize would download the chart)`, hint: HELM_HINT });
  }
  return { refs, unsupported };
}

/**
 * References in one document of a generator/transformer/validator config file. Baton runs kustomize
 * without plugins, so only builtin configs can appear; their file-naming fields are checked by name
 * wherever they occur, which also covers a builtin kind this list does not know yet.
 */
export function pluginConfigRefs(doc: Obj): KustomizeRefs {
  const refs: KustomizeRef[] = [];
  const unsupported: UnsupportedField[] = [];
  if (doc.kind === "HelmChartInflationGenerator") {
    unsupported.push({ field: "kind", message: "HelmChartInflationGenerator is not supported (kustomize would download the chart)", hint: HELM_HINT });
  }
  const visit = (value: unknown, field: string): void => {
    if (Array.isArray(value)) {
      value.forEach((v, i) => visit(v, `${field}[${i}]`));
      return;
    }
    if (!isObj(value)) return;
    for (const [key, child] of Object.entries(value)) {
      const childField = field ? `${field}.${key}` : key;
      if (key === "path" && typeof child === "string") refs.push({ field: childField, value: child, role: "file" });
      else if (key === "paths") stringList(child, childField, "file", refs, true);
      else if (key === "files" || key === "envs" || key === "env") {
        // The generator fields, read as in a kustomization.
        const holder: Obj = { [key]: child };
        const before = refs.length;
        generatorFiles(holder, field, refs);
        for (const r of refs.slice(before)) r.field = r.field.replace(/^\./, "");
      } else if ((key === "repo" || key === "chartHome") && typeof child === "string") {
        unsupported.push({ field: childField, message: `${childField} is not supported (kustomize would download a chart)`, hint: HELM_HINT });
      } else visit(child, childField);
    }
  };
  visit(doc, "");
  return { refs, unsupported };
}

/** A reference kustomize would fetch over the network (a URL, a go-getter or an scp-like git address). */
export function isRemoteReference(s: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(s)
    || /^[a-z0-9]+::/i.test(s) // go-getter forced protocol: git::https://…
    || /^[\w.-]+@[\w.-]+:/.test(s) // git@github.com:org/repo
    || /^(github\.com|gitlab\.com|bitbucket\.org|dev\.azure\.com)[/:]/i.test(s);
}
