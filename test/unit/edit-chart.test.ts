import { test } from "node:test";
import assert from "node:assert/strict";
import { chartChange, setChartVersion } from "../../src/config/edit-chart.js";
import { parsePipeline } from "../../src/config/pipeline.js";
import { BatonError } from "../../src/errors.js";

const A = `sha256:${"a".repeat(64)}`;
const B = `sha256:${"b".repeat(64)}`;
const chart = "oci://ghcr.io/acme/charts/web";

test("setChartVersion edits only the target's version and digest scalars, keeping quotes and comments", () => {
  const text = `environments:\n  - {name: dev, path: d, helm: {chart: ${chart}, version: 1.1.0, digest: ${B}}}\n  - name: prod\n    helm:\n      chart: ${chart}\n      version: "1.0.0" # the release\n      digest: '${A}'\n`;
  assert.deepEqual(setChartVersion(text, "prod", { repository: chart, tag: "1.1.0", digest: B }), {
    text: text.replace(`"1.0.0"`, `"1.1.0"`).replace(`'${A}'`, `'${B}'`), line: 6,
  });
});

test("setChartVersion adds a missing digest after version: in a flow map, and on its own line in a block map", () => {
  const flow = `environments:\n  - {name: prod, path: p, helm: {chart: ${chart}, version: 1.0.0}}\n`;
  assert.equal(setChartVersion(flow, "prod", { repository: chart, tag: "1.1.0", digest: B }).text, `environments:\n  - {name: prod, path: p, helm: {chart: ${chart}, version: 1.1.0, digest: "${B}"}}\n`);
  const block = `environments:\n  - name: prod\n    helm:\n      version: 1.0.0 # pinned\n      chart: ${chart}\n`;
  assert.equal(setChartVersion(block, "prod", { repository: chart, tag: "1.1.0", digest: B }).text, `environments:\n  - name: prod\n    helm:\n      version: 1.1.0 # pinned\n      digest: "${B}"\n      chart: ${chart}\n`);
});

test("chartChange moves only the same oci:// chart, and never drops a digest pin", () => {
  const pipeline = (dev: string, prod: string) => parsePipeline({ apiVersion: "baton.dev/v1alpha1", kind: "Pipeline", chartRepositories: ["oci://ghcr.io/acme"], environments: [
    { name: "dev", path: "d", helm: JSON.parse(dev) as object }, { name: "prod", path: "p", promoteFrom: "dev", helm: JSON.parse(prod) as object },
  ] }).environments;
  const [dev, prod] = pipeline(`{"chart": "${chart}", "version": "1.1.0", "digest": "${B}"}`, `{"chart": "${chart}", "version": "1.0.0", "digest": "${A}"}`);
  assert.deepEqual(chartChange(dev!, prod!), { repository: chart, from: { repository: chart, tag: "1.0.0", digest: A }, to: { repository: chart, tag: "1.1.0", digest: B }, sites: [] });
  const [same, same2] = pipeline(`{"chart": "${chart}", "version": "1.0.0", "digest": "${A}"}`, `{"chart": "${chart}", "version": "1.0.0", "digest": "${A}"}`);
  assert.equal(chartChange(same!, same2!), undefined);
  const [other, prod2] = pipeline(`{"chart": "oci://ghcr.io/acme/other", "version": "2.0.0"}`, `{"chart": "${chart}", "version": "1.0.0"}`);
  assert.equal(chartChange(other!, prod2!), undefined, "different charts: nothing moves");
  const [loose, pinned] = pipeline(`{"chart": "${chart}", "version": "1.1.0"}`, `{"chart": "${chart}", "version": "1.0.0", "digest": "${A}"}`);
  assert.throws(() => chartChange(loose!, pinned!), (e: unknown) => e instanceof BatonError && e.code === "PIN_NO_DIGEST");
});
