/**
 * `baton.yaml`: the pipeline of ordered environments and their policies.
 * Loading validates the schema and the graph (unknown/duplicate environments, promoteFrom cycles) and
 * reports every problem with its field path.
 */
import { promises as fs } from "node:fs";
import path from "node:path";
import { z } from "zod";
import { cronProblem } from "../policy/windows.js";
import { BatonError, BatonErrors } from "../errors.js";
import { parseDuration } from "./duration.js";
import { resolveInRepo, readLimited } from "./files.js";
import { parseYamlDocs } from "./yaml-safe.js";
import { DEFAULT_LIMITS, type Limits } from "./limits.js";
import { checkStrategy } from "../release/strategy.js";
import { TagPolicySchema } from "../registry/tag-policy.js";
import { parseImageRef } from "./image-ref.js";

export const PIPELINE_FILE = "baton.yaml";
export const PIPELINE_API_VERSION = "baton.dev/v1alpha1";

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

const duration = z.string().refine((s) => parseDuration(s) !== undefined, {
  message: "is not a duration; write e.g. 30s, 10m, 1h30m or 2d",
  params: { code: "PIPELINE_BAD_DURATION" },
});
const timeZone = z.string().refine((tz) => {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}, "is not an IANA time zone (e.g. UTC, Europe/Berlin, Asia/Shanghai)");
// Validated by the same evaluator that decides windows (croner), so what validates is what runs.
const cron = z.string().refine((s) => cronProblem(s) === undefined, {
  message: "is not a five-field cron expression (minute hour day-of-month month day-of-week, e.g. \"* 9-16 * * 1-5\" = weekdays 09:00-16:59)",
  params: { code: "PIPELINE_BAD_CRON" },
});
const envName = z.string().regex(DNS_LABEL, "must be a DNS label: lowercase letters, digits and '-', at most 63 characters").max(63);

/** One canary step: move traffic to a weight, or pause (timed: the promoter advances it; untimed: `baton confirm`). */
const StepSchema = z.union([
  z.object({ setWeight: z.number().int().min(1, "must be 1..100 (the candidate's share of traffic in percent)").max(100, "must be 1..100 (the candidate's share of traffic in percent)") }).strict(),
  z.object({ pause: z.union([duration, z.object({ duration: duration.optional() }).strict()]) }).strict(),
]);

export const StrategySchema = z
  .object({
    type: z.enum(["blueGreen", "canary"]),
    /** service: Service selectors (no CRD); gatewayAPI: HTTPRoute backendRefs weights and header rules. */
    router: z.enum(["service", "gatewayAPI"]),
    /** The Service (service router) or HTTPRoute (gatewayAPI router) in the folder that carries the app's traffic. */
    route: z.string().regex(DNS_LABEL, "must name a Service or HTTPRoute in the environment's folder").max(63),
    steps: z.array(StepSchema).optional(),
    abTest: z.object({
      header: z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, "must be an HTTP header name, e.g. X-Canary"),
      value: z.string().min(1, "must not be empty"),
    }).strict().optional(),
    /** What the agent does when the candidate fails health: push the abort commit, open a PR, or nothing. */
    autoAbort: z.enum(["push", "pr", "off"]).default("pr"),
    /** Scale the old slot to zero this long after the release completed (default: at once). */
    retireAfter: duration.optional(),
  })
  .strict();

/**
 * Registry watch: `baton watch` (CI) and the agent's promoter poll these repositories and pin the newest
 * matching tag's digest into the environment, as one pin PR (or a direct commit where pushes are allowed).
 */
export const ImageWatchSchema = z
  .object({
    /** pr: open or update one pin PR; commit: push straight to the branch (first environment or allowDirectPush). */
    mode: z.enum(["pr", "commit"]).default("pr"),
    images: z.array(z.object({
      repository: z.string().refine((r) => { const p = parseImageRef(r); return p.ok && !p.ref.tag && !p.ref.digest; }, "must be an image repository without tag or digest, e.g. ghcr.io/acme/web"),
      tags: TagPolicySchema,
    }).strict()).min(1, "list at least one image to watch"),
  })
  .strict();

/** `oci://host/path/name`: a chart in an OCI registry (helm push / helm pull spelling). */
export const OCI_CHART = /^oci:\/\/[a-z0-9.-]+(?::\d+)?(?:\/[a-z0-9._-]+)+$/;
/**
 * `https://host/path/name`: chart `name` of the HTTP chart repository at `https://host/path` (its index.yaml).
 * Plain `http://` only on loopback (a local mirror, tests): anywhere else an unpinned chart could be swapped in transit.
 */
const HTTP_REPOSITORY = String.raw`(?:https:\/\/[a-z0-9.-]+|http:\/\/(?:127\.0\.0\.1|localhost))(?::\d+)?`;
export const HTTP_CHART = new RegExp(String.raw`^${HTTP_REPOSITORY}(?:\/[A-Za-z0-9._~-]+)+$`);
const SHA256 = /^sha256:[a-f0-9]{64}$/;

/** A values key path as `helm --set` and Kargo's `key` spell it: dotted keys, `[n]` for list items. */
const valuesPath = z.string().regex(/^[A-Za-z0-9_-]+(?:\[\d+\])*(?:\.[A-Za-z0-9_-]+(?:\[\d+\])*)*$/, "must be a values key path, e.g. app.container.image or workers[0].image");

/**
 * An image in values that no convention finds (Argo CD Image Updater's helm.image-spec / image-name +
 * image-tag, Kargo's helm-update-image key): a key holding a whole reference, or a repository with the
 * keys holding its tag and/or digest.
 */
export const HelmImageSchema = z
  .object({
    /** The key holding a whole reference, repo[:tag][@sha256:…]. */
    path: valuesPath.optional(),
    /** The image these keys belong to (with tagPath/digestPath). */
    repository: z.string().refine((r) => { const p = parseImageRef(r); return p.ok && !p.ref.tag && !p.ref.digest; }, "must be an image repository without tag or digest, e.g. ghcr.io/acme/web").optional(),
    /** The key holding the tag; without digestPath the pin is written there as <tag>@sha256:…. */
    tagPath: valuesPath.optional(),
    /** The key holding the digest (sha256:…), where the chart reads one. */
    digestPath: valuesPath.optional(),
  })
  .strict()
  .superRefine((image, ctx) => {
    const keys = image.tagPath !== undefined || image.digestPath !== undefined;
    if (image.path !== undefined && (keys || image.repository !== undefined)) {
      ctx.addIssue({ code: "custom", path: ["path"], message: "names a whole reference: leave out repository, tagPath and digestPath (or drop path and keep those)" });
    } else if (image.path === undefined && !keys) {
      ctx.addIssue({ code: "custom", path: [], message: "needs path (a key holding the whole reference) or repository with tagPath and/or digestPath" });
    } else if (image.path === undefined && image.repository === undefined) {
      ctx.addIssue({ code: "custom", path: ["repository"], message: "is required with tagPath/digestPath: the image whose tag/digest those keys hold, e.g. ghcr.io/acme/web" });
    }
  });

/**
 * A Helm environment: a chart rendered with this environment's values (`helm template`). The chart is a
 * folder in the repo, or `oci://…` pinned by version (and digest) from a source `chartRepositories` names.
 */
export const HelmSchema = z
  .object({
    /** The chart's folder in the repo, or oci://registry/path/name (allowed by chartRepositories). */
    chart: z.string().min(1, "must name the chart's folder in the repo (e.g. charts/web) or an OCI chart (oci://ghcr.io/acme/charts/web)")
      .refine((c) => !/^[a-z][a-z0-9+.-]*:\/\//i.test(c) || OCI_CHART.test(c) || HTTP_CHART.test(c), "must be a folder in the repo, oci://registry/path/chart (lowercase) or https://<chart repository URL>/<chart name> (no credentials, query or fragment; plain http:// only on 127.0.0.1 or localhost)"),
    /** The chart version (an OCI chart's tag); required for oci:// charts. */
    version: z.string().regex(/^v?\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.+-]+)?$/, "must be a chart version (semver), e.g. 1.4.2").optional(),
    /** The chart's manifest digest (what `helm push` prints); a registry answering another digest for the version is refused. */
    digest: z.string().regex(SHA256, "must be sha256:<64 hex> (the Digest `helm push` prints)").optional(),
    /** Values files, relative to the environment's folder, applied in order. */
    values: z.array(z.string().min(1, "must name a values file, e.g. values.yaml")).min(1, "list at least one values file").default(["values.yaml"]),
    /** The release name templates see (`.Release.Name`); default: the environment's name. */
    releaseName: z.string().regex(DNS_LABEL, "must be a DNS label (a Helm release name)").max(53).optional(),
    /** Image paths in the values that the conventions (repository + tag/digest, image: strings) do not find. */
    images: z.array(HelmImageSchema).optional(),
  })
  .strict();

/** Whether a Helm environment's chart comes from a registry (else it is a folder in the repo). */
export const isRemoteChart = (chart: string): boolean => /^(oci|https?):\/\//.test(chart);

/** Image signatures: every digest pinned into the environment must carry a cosign signature by one of these keys. */
export const VerifySchema = z
  .object({
    /** Repo paths of PEM public keys (cosign.pub). */
    keys: z.array(z.string().min(1)).min(1, "list at least one public key file, e.g. keys/cosign.pub"),
  })
  .strict();

/**
 * One target of a stage: its own folder, applied by the agent on its own cluster, reported as its own
 * GitHub Deployment environment (the target's name). Targets of wave 1 are promoted first; wave N+1 only
 * when every target of the earlier waves is healthy and soaked at the same digests.
 */
export const TargetSchema = z
  .object({
    name: envName,
    path: z.string().min(1, "must name the target's folder, e.g. environments/prod-eu"),
    wave: z.number().int("must be a whole number").min(1, "must be 1 or more (waves are numbered from 1)").default(1),
    namespace: z.string().regex(DNS_LABEL, "must be a valid namespace name").optional(),
  })
  .strict();

export const PipelineEnvironmentSchema = z
  .object({
    name: envName,
    /** A plain environment's folder; a stage with several targets names `targets` instead. */
    path: z.string().min(1, "must name the environment's folder, e.g. environments/staging").optional(),
    /** The stage's targets (each its own folder and cluster), grouped in waves; every other field applies to all. */
    targets: z.array(TargetSchema).min(1, "list at least one target, or use path for a single folder").optional(),
    /** How long every target of a wave must be healthy before the next wave may be promoted (default: soak). */
    waveSoak: duration.optional(),
    promoteFrom: envName.optional(),
    namespace: z.string().regex(DNS_LABEL, "must be a valid namespace name").optional(),
    soak: duration.optional(),
    windows: z.array(cron).optional(),
    timezone: timeZone.optional(),
    autoPromote: z.boolean().default(false),
    // Optional rather than defaulted, so code that builds environment specs by hand need not name it (absent = false).
    autoMerge: z.boolean().optional(),
    prune: z.boolean().default(true),
    requireDigests: z.boolean().default(true),
    approvers: z.array(z.string().regex(/^@[\w.-]+(\/[\w.-]+)?$|^[^@\s]+@[^@\s]+$/, "must be @user, @org/team or an email")).optional(),
    allowDirectPush: z.boolean().default(false),
    /** Progressive delivery (blue-green or canary); release state lives in <path>/release.yaml. */
    strategy: StrategySchema.optional(),
    imageWatch: ImageWatchSchema.optional(),
    /** Render the folder's values through a chart instead of reading manifests. */
    helm: HelmSchema.optional(),
    verify: VerifySchema.optional(),
  })
  .strict();

export const NOTIFY_EVENTS = [
  "promotion.opened",
  "promotion.merged",
  "deploy.succeeded",
  "deploy.failed",
  "rollback.opened",
  "release.pending",
  "release.confirmed",
  "release.aborted",
] as const;

/**
 * Only variables with this prefix may be named: baton.yaml comes from the repo, and must not be able to
 * send the agent's other variables (GITHUB_TOKEN, a GitHub App key) to a URL of its choosing.
 */
export const NOTIFY_ENV_PREFIX = "BATON_NOTIFY_";
const notifyEnvVar = z.string().regex(/^BATON_NOTIFY_[A-Z0-9_]+$/, `must name an environment variable starting with ${NOTIFY_ENV_PREFIX} (e.g. ${NOTIFY_ENV_PREFIX}SLACK_URL); other variables of the agent cannot be read from baton.yaml`);

export const NotifierSchema = z
  .object({
    name: z.string().min(1),
    type: z.enum(["webhook", "slack", "dingtalk"]),
    /** Literal URL, or read from this environment variable (keeps tokens out of git). */
    url: z.string().url().optional(),
    urlEnv: notifyEnvVar.optional(),
    /** DingTalk signing secret, read from this environment variable. */
    secretEnv: notifyEnvVar.optional(),
    events: z.array(z.enum(NOTIFY_EVENTS)).optional(),
    environments: z.array(envName).optional(),
  })
  .strict()
  .refine((n) => (n.url === undefined) !== (n.urlEnv === undefined), { message: "set exactly one of url or urlEnv" });

export const PipelineSchema = z
  .object({
    apiVersion: z.literal(PIPELINE_API_VERSION),
    kind: z.literal("Pipeline"),
    metadata: z.object({ name: z.string().optional() }).passthrough().optional(),
    environments: z.array(PipelineEnvironmentSchema).min(1, "list at least one environment"),
    notifications: z.array(NotifierSchema).optional(),
    /** The only places `oci://` and `https://` charts may be fetched from (a prefix: oci://ghcr.io/acme/charts allows oci://ghcr.io/acme/charts/web). */
    chartRepositories: z.array(z.string().regex(new RegExp(String.raw`^oci:\/\/[a-z0-9.-]+(?::\d+)?(?:\/[a-z0-9._-]+)*\/?$|^${HTTP_REPOSITORY}(?:\/[A-Za-z0-9._~-]+)*\/?$`), "must be an OCI registry location or an HTTPS chart repository URL, e.g. oci://ghcr.io/acme/charts or https://charts.example.com (no credentials, query or fragment; plain http:// only on 127.0.0.1 or localhost)")).optional(),
  })
  .strict();

/** One entry of `environments:` as written: a plain environment (path) or a stage (targets). */
export type PipelineEntry = z.infer<typeof PipelineEnvironmentSchema>;
/**
 * A deployable environment: one folder, one Environment object, one GitHub Deployment environment. A plain
 * entry is one; a stage with targets expands to one per target, carrying the stage's policy fields.
 */
export type PipelineEnvironment = Omit<PipelineEntry, "path" | "targets" | "waveSoak"> & {
  path: string;
  /** The stage this target belongs to (absent: a plain environment, its own stage). */
  stage?: string;
  wave?: number;
  /** Where its folder is named in baton.yaml, for messages: environments[i].path or environments[i].targets[k].path. */
  pathField?: string;
};
/** A stage of the pipeline: what `promote <from> <stage>` moves. A plain environment is a stage with one target. */
export interface Stage {
  name: string;
  promoteFrom?: string;
  /** As written in baton.yaml. */
  targets: PipelineEnvironment[];
  /** Waves in order: waves[0] are the wave-1 targets. */
  waves: PipelineEnvironment[][];
  /** Health needed of earlier waves before the next, in ms. */
  waveSoakMs: number;
  waveSoak?: string;
  /** True when written with targets (even one): promotions name waves. */
  staged: boolean;
}
export type Strategy = z.infer<typeof StrategySchema>;
export type ImageWatch = z.infer<typeof ImageWatchSchema>;
export type StrategyStep = z.infer<typeof StepSchema>;
export type NotifierSpec = z.infer<typeof NotifierSchema>;
type PipelineDocument = z.infer<typeof PipelineSchema>;
/** baton.yaml after validation: `environments` are the deployable targets, `stages` what promotions move. */
export type Pipeline = Omit<PipelineDocument, "environments"> & { environments: PipelineEnvironment[]; stages: Stage[] };

/** Formats a zod path as `environments[1].promoteFrom`. */
export function formatFieldPath(segments: ReadonlyArray<string | number>): string {
  return segments.reduce<string>((acc, s) => (typeof s === "number" ? `${acc}[${s}]` : acc ? `${acc}.${s}` : s), "");
}

/** Validates an already-parsed baton.yaml value. Returns the pipeline or every problem found. */
export function parsePipeline(value: unknown, file = PIPELINE_FILE): Pipeline {
  const result = PipelineSchema.safeParse(value);
  if (!result.success) {
    throw new BatonErrors(
      result.error.issues.map((issue) => {
        const field = formatFieldPath(issue.path);
        const custom = issue.code === "custom" ? (issue.params as { code?: string } | undefined)?.code : undefined;
        const code = custom === "PIPELINE_BAD_CRON" || custom === "PIPELINE_BAD_DURATION" ? custom : "PIPELINE_SCHEMA";
        return new BatonError(code, `${field || "document"} ${issue.message}`, {
          file,
          field,
          hint: schemaHint(field),
        });
      }),
    );
  }
  checkEntries(result.data, file);
  const pipeline = expandStages(result.data);
  checkGraph(pipeline, file);
  return pipeline;
}

/** Plain entries and stages must name exactly one of path/targets; target names and waves must make sense. */
function checkEntries(doc: PipelineDocument, file: string): void {
  const errors: BatonError[] = [];
  const seen = new Map<string, string>();
  const claim = (name: string, field: string) => {
    const first = seen.get(name);
    if (first !== undefined) {
      errors.push(new BatonError("PIPELINE_DUPLICATE_ENV", `"${name}" is already the name at ${first}`, {
        file, field, hint: "stage, environment and target names share one namespace (they name Environments and GitHub Deployment environments); give each a unique name",
      }));
    } else seen.set(name, field);
  };
  doc.environments.forEach((entry, i) => {
    const at = `environments[${i}]`;
    claim(entry.name, `${at}.name`);
    if (entry.path === undefined && entry.targets === undefined) {
      errors.push(new BatonError("PIPELINE_SCHEMA", `${at} names neither path nor targets`, { file, field: `${at}.path`, hint: "set path: to the environment's folder, or targets: [{name, path, wave}] for a stage on several clusters" }));
    }
    if (entry.path !== undefined && entry.targets !== undefined) {
      errors.push(new BatonError("PIPELINE_SCHEMA", `${at} sets both path and targets`, { file, field: `${at}.path`, hint: "a stage with targets has no path of its own: move the folder into a target" }));
    }
    if (entry.targets === undefined) {
      if (entry.waveSoak !== undefined) errors.push(new BatonError("PIPELINE_SCHEMA", `${at}.waveSoak needs targets`, { file, field: `${at}.waveSoak`, hint: "waveSoak applies between the waves of a stage's targets; remove it or list targets" }));
      return;
    }
    entry.targets.forEach((t, k) => claim(t.name, `${at}.targets[${k}].name`));
    const waves = [...new Set(entry.targets.map((t) => t.wave))].sort((a, b) => a - b);
    const gap = waves.findIndex((w, k) => w !== k + 1);
    if (gap !== -1) {
      const k = entry.targets.findIndex((t) => t.wave === waves[gap]);
      errors.push(new BatonError("PIPELINE_BAD_WAVE", gap === 0
        ? `the waves of ${entry.name} start at ${waves[0]}, not 1`
        : `the waves of ${entry.name} skip wave ${gap + 1} (found ${waves.join(", ")})`, {
        file, field: `${at}.targets[${k}].wave`, hint: "number waves 1, 2, 3… without gaps: wave 1 is promoted first",
      }));
    }
  });
  if (errors.length > 0) throw new BatonErrors(errors);
}

/** Expands stages into their targets; each target carries the stage's fields, its own name, path and wave. */
function expandStages(doc: PipelineDocument): Pipeline {
  const environments: PipelineEnvironment[] = [];
  const stages: Stage[] = [];
  for (const [i, entry] of doc.environments.entries()) {
    const { path: folder, targets, waveSoak, ...shared } = entry;
    const envs: PipelineEnvironment[] = targets
      ? targets.map((t, k) => ({ ...shared, name: t.name, path: t.path, stage: entry.name, wave: t.wave, pathField: `environments[${i}].targets[${k}].path`, ...(t.namespace ? { namespace: t.namespace } : {}) }))
      : [{ ...shared, path: folder as string, pathField: `environments[${i}].path` }];
    environments.push(...envs);
    const waves: PipelineEnvironment[][] = [];
    for (const env of envs) (waves[(env.wave ?? 1) - 1] ??= []).push(env);
    const soak = waveSoak ?? entry.soak;
    stages.push({
      name: entry.name, targets: envs, waves, staged: targets !== undefined, waveSoakMs: soak ? parseDuration(soak) ?? 0 : 0,
      ...(entry.promoteFrom ? { promoteFrom: entry.promoteFrom } : {}), ...(soak ? { waveSoak: soak } : {}),
    });
  }
  const { environments: _entries, ...rest } = doc;
  return { ...rest, environments, stages };
}

function schemaHint(field: string): string {
  if (field === "apiVersion") return `set apiVersion: ${PIPELINE_API_VERSION}`;
  if (field === "kind") return "set kind: Pipeline";
  if (field.endsWith("windows[0]") || /windows\[\d+\]$/.test(field)) return "see the windows reference in the README";
  return "see the baton.yaml reference in the README (schema: schema/baton.schema.json)";
}

function checkGraph(pipeline: Pipeline, file: string): void {
  const errors: BatonError[] = [];
  const names = [...new Set([...pipeline.stages.map((s) => s.name), ...pipeline.environments.map((e) => e.name)])];
  pipeline.stages.forEach((stage, i) => {
    const from = stage.promoteFrom;
    if (from !== undefined && !names.includes(from)) {
      errors.push(new BatonError("PIPELINE_UNKNOWN_ENV", `promoteFrom names unknown environment "${from}"`, {
        file, field: `environments[${i}].promoteFrom`, hint: `use one of: ${names.join(", ")}`,
      }));
    }
    if (from !== undefined && (from === stage.name || stage.targets.some((t) => t.name === from))) {
      errors.push(new BatonError("PIPELINE_CYCLE", `environment "${stage.name}" promotes from itself`, {
        file, field: `environments[${i}].promoteFrom`, hint: "remove promoteFrom or point it at the previous stage",
      }));
    }
    stage.targets.forEach((env, k) => {
      try {
        resolveInRepo("/", env.path, { file, field: stage.staged ? `environments[${i}].targets[${k}].path` : `environments[${i}].path` });
      } catch (e) {
        errors.push(e as BatonError);
      }
    });
    const first = stage.targets[0];
    if (first) errors.push(...checkStrategy(first, i, file), ...checkChartSource(pipeline, first, i, file));
  });
  const cycle = findCycle(pipeline);
  // [a, a] is a stage promoting from itself, reported above.
  if (cycle && cycle.length > 2) {
    errors.push(new BatonError("PIPELINE_CYCLE", `promoteFrom forms a cycle: ${cycle.join(" → ")}`, {
      file, field: "environments", hint: "stages must form a chain, e.g. testing → staging → production",
    }));
  }
  if (errors.length > 0) throw new BatonErrors(errors);
}

/**
 * An `oci://` chart needs a version and a source baton.yaml allows; a repo folder takes neither version
 * nor digest (the commit pins it). Nothing is fetched from a place `chartRepositories` does not name.
 */
function checkChartSource(pipeline: Pipeline, env: PipelineEnvironment, i: number, file: string): BatonError[] {
  const helm = env.helm;
  if (!helm) return [];
  const field = `environments[${i}].helm`;
  if (!isRemoteChart(helm.chart)) {
    return helm.version !== undefined || helm.digest !== undefined
      ? [new BatonError("PIPELINE_SCHEMA", `${field}: version and digest apply to oci:// and https:// charts only; ${helm.chart} is a folder in the repo`, { file, field: `${field}.version`, hint: "remove version/digest (the commit pins a chart in the repo) or name the chart as oci://…" })]
      : [];
  }
  const out: BatonError[] = [];
  if (helm.version === undefined) {
    out.push(new BatonError("PIPELINE_SCHEMA", `${field}: ${helm.chart} needs a version`, { file, field: `${field}.version`, hint: "add version: <x.y.z> (and digest: sha256:… from helm push) so every commit renders the same chart" }));
  }
  const allowed = (pipeline.chartRepositories ?? []).map((r) => r.replace(/\/+$/, ""));
  if (!allowed.some((r) => helm.chart === r || helm.chart.startsWith(`${r}/`))) {
    out.push(new BatonError("CHART_SOURCE_NOT_ALLOWED", `${field}.chart: ${helm.chart} is not in a chart repository baton.yaml allows${allowed.length ? ` (${allowed.join(", ")})` : " (chartRepositories is empty)"}`, {
      file, field: `${field}.chart`, hint: `add its registry location or repository URL to chartRepositories in baton.yaml, e.g. chartRepositories: [${helm.chart.replace(/\/[^/]+$/, "")}]; charts are fetched only from there`,
    }));
  }
  return out;
}

/** A pipeline of plain environments only (each its own stage), for code that proposes or builds one. */
export function plainPipeline(environments: PipelineEnvironment[]): Pipeline {
  return {
    apiVersion: PIPELINE_API_VERSION, kind: "Pipeline", environments,
    stages: environments.map((e) => ({ name: e.name, targets: [e], waves: [[e]], staged: false, waveSoakMs: 0, ...(e.promoteFrom ? { promoteFrom: e.promoteFrom } : {}) })),
  };
}

/** The stage a name belongs to: the stage itself, or the stage of a target. */
export function stageOf(pipeline: Pipeline, name: string): Stage | undefined {
  return pipeline.stages.find((s) => s.name === name || s.targets.some((t) => t.name === name));
}

function findCycle(pipeline: Pipeline): string[] | undefined {
  const from = new Map(pipeline.stages.map((s) => [s.name, s.promoteFrom === undefined ? undefined : stageOf(pipeline, s.promoteFrom)?.name]));
  for (const start of from.keys()) {
    const seen: string[] = [];
    let current: string | undefined = start;
    while (current !== undefined) {
      if (seen.includes(current)) return current === start ? [...seen, current] : undefined;
      seen.push(current);
      current = from.get(current);
    }
  }
  return undefined;
}

/** baton.yaml, or undefined when the repo has none (an Environment may name just a folder). */
export async function loadPipelineIfAny(repoDir: string, limits: Limits = DEFAULT_LIMITS): Promise<Pipeline | undefined> {
  try {
    return await loadPipeline(repoDir, limits);
  } catch (e) {
    if (e instanceof BatonError && e.code === "PIPELINE_NOT_FOUND") return undefined;
    throw e;
  }
}

export async function loadPipeline(repoDir: string, limits: Limits = DEFAULT_LIMITS): Promise<Pipeline> {
  const file = path.join(repoDir, PIPELINE_FILE);
  try {
    await fs.access(file);
  } catch {
    throw new BatonError("PIPELINE_NOT_FOUND", `no ${PIPELINE_FILE} in ${repoDir}`, {
      file: PIPELINE_FILE,
      hint: "run baton in a config repo clone or pass --repo DIR; see the README quickstart for an example baton.yaml",
    });
  }
  const docs = parseYamlDocs(await readLimited(repoDir, file, limits), PIPELINE_FILE, limits);
  if (docs.length !== 1) {
    throw new BatonError("PIPELINE_SCHEMA", `expected exactly one YAML document, found ${docs.length}`, {
      file: PIPELINE_FILE, hint: "keep the whole pipeline in one document",
    });
  }
  return parsePipeline(docs[0]?.value, PIPELINE_FILE);
}

export function findEnvironment(pipeline: Pipeline, name: string): PipelineEnvironment {
  const env = pipeline.environments.find((e) => e.name === name);
  if (!env) {
    throw new BatonError("PIPELINE_UNKNOWN_ENV", `unknown environment "${name}"`, {
      file: PIPELINE_FILE,
      hint: `use one of: ${pipeline.environments.map((e) => e.name).join(", ")}`,
    });
  }
  return env;
}

/** The first environment (the one nothing promotes into): where CI pins fresh builds. */
export function firstEnvironment(pipeline: Pipeline): PipelineEnvironment {
  return pipeline.environments.find((e) => e.promoteFrom === undefined) ?? (pipeline.environments[0] as PipelineEnvironment);
}
