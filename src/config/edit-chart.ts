/**
 * Promoting a chart version: environments that render the same `oci://` chart move the target to the
 * source's version and digest, as an edit of those two scalars of the target's `helm:` in baton.yaml
 * (every other byte stays). Pure.
 */
import { isMap, isScalar, isSeq, parseDocument, type Pair, type Scalar, type YAMLMap } from "yaml";
import { BatonError } from "../errors.js";
import type { PinChange } from "./edit.js";
import { isRemoteChart, PIPELINE_FILE, type PipelineEnvironment } from "./pipeline.js";
import type { Pin } from "./pins.js";

/** The chart an environment renders from a registry as a pin: repository = the oci:// chart, tag = its version. */
export function chartPin(env: PipelineEnvironment): Pin | undefined {
  const helm = env.helm;
  if (!helm || !isRemoteChart(helm.chart) || helm.version === undefined) return undefined;
  return { repository: helm.chart, tag: helm.version, ...(helm.digest ? { digest: helm.digest } : {}) };
}

/** A chart's row in history: `<version>@<digest>` (or the version alone when no digest is pinned). */
export function chartDigestText(chart: Pin): string {
  return `${chart.tag ?? ""}${chart.digest ? `@${chart.digest}` : ""}`;
}

/** The chart move from `source` to `target`: both render the same oci:// chart at different versions or digests. */
export function chartChange(source: PipelineEnvironment, target: PipelineEnvironment): PinChange | undefined {
  const from = chartPin(target);
  const to = chartPin(source);
  if (!from || !to || from.repository !== to.repository) return undefined;
  if (from.tag === to.tag && from.digest === to.digest) return undefined;
  if (!to.digest && from.digest) {
    throw new BatonError("PIN_NO_DIGEST", `${source.name} renders ${to.repository} ${to.tag} without a digest, but ${target.name} pins its chart by digest; promoting would drop the pin`, {
      file: PIPELINE_FILE, field: "helm.digest", hint: `add digest: <sha256 helm push printed> to ${source.name}'s helm: in baton.yaml, then promote`,
    });
  }
  return { repository: to.repository, from, to, sites: [] };
}

/** The value in the scalar's own style: quoted as it was, or plain (versions x.y.z and sha256:… are strings either way). */
function keepQuotes(text: string, node: Scalar, value: string): string {
  const raw = node.range ? text.slice(node.range[0], node.range[1]) : "";
  const quote = raw.startsWith("\"") || raw.startsWith("'") ? raw[0] : "";
  return `${quote}${value}${quote}`;
}

/** baton.yaml with environment `name`'s helm version and digest set to `to` (a missing digest key is added after version). */
export function setChartVersion(text: string, name: string, to: Pin): { text: string; line: number } {
  const doc = parseDocument(text, { uniqueKeys: false });
  const envs = doc.get("environments", true);
  const env = isSeq(envs) ? envs.items.find((e): e is YAMLMap => isMap(e) && e.get("name") === name) : undefined;
  const helm = env?.get("helm", true);
  const scalarOf = (key: string) => (isMap(helm) ? (helm.items as Pair[]).find((p) => isScalar(p.key) && p.key.value === key)?.value : undefined);
  const version = scalarOf("version");
  if (!isMap(helm) || !isScalar(version) || !version.range) {
    throw new BatonError("PIPELINE_SCHEMA", `cannot find environment "${name}"'s helm.version in baton.yaml to edit`, { file: PIPELINE_FILE, hint: "write it as helm: {chart: oci://…, version: x.y.z}" });
  }
  const spans: Array<{ start: number; end: number; text: string }> = [{ start: version.range[0], end: version.range[1], text: keepQuotes(text, version, to.tag ?? "") }];
  const digest = scalarOf("digest");
  if (to.digest && isScalar(digest) && digest.range) spans.push({ start: digest.range[0], end: digest.range[1], text: keepQuotes(text, digest, to.digest) });
  else if (to.digest && helm.flow) spans.push({ start: version.range[1], end: version.range[1], text: `, digest: "${to.digest}"` });
  else if (to.digest) {
    // Block style: a new line under version, at its indentation (after a comment on version's line).
    const keyStart = ((helm.items as Pair[]).find((p) => p.value === version)?.key as Scalar).range?.[0] ?? version.range[0];
    const indent = keyStart - (text.lastIndexOf("\n", keyStart) + 1);
    const eol = text.indexOf("\n", version.range[1]);
    const at = eol === -1 ? text.length : eol;
    spans.push({ start: at, end: at, text: `\n${" ".repeat(indent)}digest: "${to.digest}"` });
  }
  let out = text;
  for (const span of spans.sort((a, b) => b.start - a.start)) out = out.slice(0, span.start) + span.text + out.slice(span.end);
  return { text: out, line: text.slice(0, version.range[0]).split("\n").length };
}
