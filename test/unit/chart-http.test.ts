// HTTP chart repositories: which archive and digest an index.yaml names for a chart version (pure).
import { test } from "node:test";
import assert from "node:assert/strict";
import { indexEntry } from "../../src/config/chart-http.js";
import { BatonError } from "../../src/errors.js";

const where = { env: "prod", file: "baton.yaml", field: "environments[1].helm" };
const index = `apiVersion: v1
entries:
  web:
    - {version: 0.4.0, digest: ${"b".repeat(64)}, urls: [web-0.4.0.tgz]}
    - {version: 0.3.0, digest: ${"a".repeat(64)}, urls: ["https://github.com/acme/charts/releases/download/web-0.3.0/web-0.3.0.tgz"]}
  api: []
generated: "2026-11-27T00:00:00Z"
`;
const url = "https://charts.example.com/stable/index.yaml";

test("an index entry gives the archive URL (relative to the index) and its digest as sha256:…", () => {
  assert.deepEqual(indexEntry(index, { chart: "https://charts.example.com/stable/web", version: "0.4.0" }, url, where), { url: "https://charts.example.com/stable/web-0.4.0.tgz", digest: `sha256:${"b".repeat(64)}` });
  assert.deepEqual(indexEntry(index, { chart: "https://charts.example.com/stable/web", version: "0.3.0" }, url, where).url, "https://github.com/acme/charts/releases/download/web-0.3.0/web-0.3.0.tgz");
});

test("a version the index does not list, and a file that is not an index, are refused naming the field", () => {
  assert.throws(() => indexEntry(index, { chart: "https://charts.example.com/stable/web", version: "9.9.9" }, url, where),
    (e: unknown) => e instanceof BatonError && e.code === "CHART_VERSION_NOT_FOUND" && e.field === "environments[1].helm.version"
      && e.message.includes("chart https://charts.example.com/stable/web has no version 9.9.9 in https://charts.example.com/stable/index.yaml (it lists 0.4.0, 0.3.0)")
      && e.hint === "set environments[1].helm.version to a version the repository lists (helm search repo <name> --versions), or publish 9.9.9 first");
  assert.throws(() => indexEntry(index, { chart: "https://charts.example.com/stable/api", version: "1.0.0" }, url, where), (e: unknown) => e instanceof BatonError && e.code === "CHART_VERSION_NOT_FOUND");
  assert.throws(() => indexEntry("<html>not found</html>", { chart: "https://charts.example.com/stable/web", version: "0.4.0" }, url, where), (e: unknown) => e instanceof BatonError && e.code === "CHART_BAD_ARTIFACT" && e.field === "environments[1].helm.chart");
});
