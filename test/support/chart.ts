/** The Helm chart in tests: `helm template` with values, parsed into objects. */
import { execFile } from "node:child_process";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { parseAllDocuments } from "yaml";
import type { KubeObject } from "../../src/config/objects.js";

const exec = promisify(execFile);
export const chartDir = path.resolve(import.meta.dirname, "../../charts/baton");
// helm built with `go install` defaults to Kubernetes v1.20 for template; render for the test cluster's version.
const kubeVersion = /K8S_VERSION=(\S+)/.exec(await fs.readFile(path.resolve(import.meta.dirname, "../cluster/versions.env"), "utf8"))?.[1] ?? "v1.34.0";

export async function helm(...args: string[]): Promise<string> {
  return (await exec("helm", args, { maxBuffer: 16 << 20 })).stdout;
}

/** The chart's objects (CRDs included) as `helm install <release> --namespace <namespace>` with these values would create them. */
export async function helmTemplate(namespace: string, values: Record<string, unknown>, release = "baton"): Promise<KubeObject[]> {
  const file = path.join(await fs.mkdtemp(path.join(os.tmpdir(), "baton-values-")), "values.json");
  await fs.writeFile(file, JSON.stringify(values));
  const out = await helm("template", release, chartDir, "--namespace", namespace, "--include-crds", "--kube-version", kubeVersion, "-f", file);
  return parseAllDocuments(out).map((d) => d.toJS() as KubeObject).filter((o) => o && o.kind);
}
