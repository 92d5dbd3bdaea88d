/**
 * Charts from HTTP chart repositories (`helm: {chart: https://charts.example.com/web, version, digest}`):
 * the repository's index.yaml names each version's archive and its sha256 (`digest`), as `helm repo index`
 * writes it. Baton fetches the archive itself (helm renders offline), checks it against the index's
 * digest and the one baton.yaml pins, and caches it by that digest. No credentials are sent.
 */
import { createHash } from "node:crypto";
import { parse } from "yaml";
import { z } from "zod";
import { BatonError } from "../errors.js";
import type { ChartWhere, RemoteChart } from "./chart-source.js";

/** An index.yaml larger than this is refused (large public indexes are a few MiB). */
const MAX_INDEX_BYTES = 32 * 1024 * 1024;
const TIMEOUT_MS = 60_000;

const IndexSchema = z.object({
  entries: z.record(z.string(), z.array(z.object({
    version: z.string(),
    digest: z.string().optional(),
    urls: z.array(z.string()).default([]),
  }).passthrough()).nullable()),
}).passthrough();

/** `https://host/path/web` → the repository (`https://host/path`) and the chart's name (`web`). */
export function splitHttpChart(chart: string): { repository: string; name: string } {
  const slash = chart.lastIndexOf("/");
  return { repository: chart.slice(0, slash), name: chart.slice(slash + 1) };
}

async function get(url: string, limit: number, what: string, where: ChartWhere): Promise<Buffer> {
  const failed = (reason: string) => new BatonError("CHART_FETCH_FAILED", `environment "${where.env}": cannot fetch ${what} ${url}: ${reason}`, {
    file: where.file, field: `${where.field}.chart`, hint: "check the chart repository URL and that it is reachable from here (no credentials are sent)",
  });
  let response: Response;
  try {
    response = await fetch(url, { redirect: "follow", signal: AbortSignal.timeout(TIMEOUT_MS) });
  } catch (e) {
    throw failed((e as Error).message);
  }
  if (!response.ok) throw failed(`HTTP ${response.status}`);
  const declared = Number(response.headers.get("content-length") ?? "0");
  if (declared > limit) throw failed(`larger than ${limit} bytes`);
  const bytes = Buffer.from(await response.arrayBuffer());
  if (bytes.length > limit) throw failed(`larger than ${limit} bytes`);
  return bytes;
}

/**
 * The chart's version is not published where baton.yaml says (an https:// index or an OCI registry). It is
 * a fix in git (or a push of the chart), so the agent reports it as Stalled instead of retrying hot.
 */
export function chartVersionNotFound(spec: RemoteChart, where: ChartWhere, source: string, pinInstead: string): BatonError {
  return new BatonError("CHART_VERSION_NOT_FOUND", `environment "${where.env}": chart ${spec.chart} has no version ${spec.version} in ${source}; nothing was rendered`, {
    file: where.file, field: `${where.field}.version`, hint: `set ${where.field}.version to ${pinInstead}, or publish ${spec.version} first`,
  });
}

/** The archive URL and sha256 the index names for the chart's version (pure). */
export function indexEntry(indexText: string, spec: RemoteChart, indexUrl: string, where: ChartWhere): { url: string; digest?: string } {
  const { name } = splitHttpChart(spec.chart);
  let index: z.infer<typeof IndexSchema>;
  try {
    index = IndexSchema.parse(parse(indexText, { maxAliasCount: 100, uniqueKeys: false }));
  } catch {
    throw new BatonError("CHART_BAD_ARTIFACT", `environment "${where.env}": ${indexUrl} is not a chart repository index`, {
      file: where.file, field: `${where.field}.chart`, hint: "name the chart repository's URL (the folder holding index.yaml) followed by /<chart name>",
    });
  }
  const versions = index.entries[name] ?? [];
  const entry = versions.find((v) => v.version === spec.version);
  const url = entry?.urls[0];
  if (!entry || !url) {
    const listed = versions.length ? `it lists ${versions.slice(0, 5).map((v) => v.version).join(", ")}${versions.length > 5 ? ", …" : ""}` : `it lists no ${name} at all`;
    throw chartVersionNotFound(spec, where, `${indexUrl} (${listed})`, "a version the repository lists (helm search repo <name> --versions)");
  }
  const digest = entry.digest ? `sha256:${entry.digest.replace(/^sha256:/, "")}` : undefined;
  return { url: new URL(url, indexUrl).toString(), ...(digest ? { digest } : {}) };
}

/**
 * The archive of an https:// chart at its version. The index's digest must match the pinned one, the
 * archive must match both, and an archive the index places outside the repository is fetched only when a
 * digest is pinned (its bytes are then what baton.yaml names, wherever they are served from).
 */
export async function fetchHttpChart(spec: RemoteChart, where: ChartWhere, maxBytes: number): Promise<{ bytes: Buffer; digest: string }> {
  const { repository } = splitHttpChart(spec.chart);
  const indexUrl = `${repository}/index.yaml`;
  const entry = indexEntry((await get(indexUrl, MAX_INDEX_BYTES, "the chart index", where)).toString("utf8"), spec, indexUrl, where);
  const mismatch = (what: string, found: string, expected: string) => new BatonError("CHART_DIGEST_MISMATCH", `environment "${where.env}": ${spec.chart} ${spec.version}: ${what} is ${found}, but ${expected}`, {
    file: where.file, field: `${where.field}.digest`, hint: "the version was published again since it was pinned, or the archive was changed on the way; nothing was rendered. Pin the new digest only if you trust that chart",
  });
  if (spec.digest && entry.digest && entry.digest !== spec.digest) throw mismatch("the index's digest", entry.digest, `baton.yaml pins ${spec.digest}`);
  if (!entry.url.startsWith(`${repository}/`) && !spec.digest) {
    throw new BatonError("CHART_SOURCE_NOT_ALLOWED", `environment "${where.env}": the index places ${spec.chart} ${spec.version} at ${entry.url}, outside ${repository}/`, {
      file: where.file, field: `${where.field}.digest`, hint: "pin the archive's digest (sha256 of the .tgz, as the index lists it) so its content is checked wherever it is served from",
    });
  }
  const bytes = await get(entry.url, maxBytes, "the chart archive", where);
  const digest = `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
  const expected = spec.digest ?? entry.digest;
  if (expected && digest !== expected) throw mismatch("the archive's digest", digest, spec.digest ? `baton.yaml pins ${spec.digest}` : `the index lists ${expected}`);
  return { bytes, digest };
}
