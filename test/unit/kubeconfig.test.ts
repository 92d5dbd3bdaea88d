// Baton's kubeconfig loader: kubeconfig text in, cluster and credentials out; bad input names file, field and fix.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { BatonError } from "../../src/errors.js";
import { credentialsFor } from "../../src/kube/credentials.js";
import { findKubeConfig, inClusterConfig, mergeKubeConfigs, parseKubeConfig, resolveKubeConfig } from "../../src/kube/kubeconfig.js";

const CA = Buffer.from("-----BEGIN CERTIFICATE-----\nfake\n-----END CERTIFICATE-----\n");

function kubeconfig(options: { context?: string; clusters?: string; users?: string; contexts?: string } = {}): string {
  return [
    "apiVersion: v1", "kind: Config", ...(options.context === "" ? [] : [`current-context: ${options.context ?? "dev"}`]),
    list("clusters", options.clusters ?? `- name: dev\n  cluster:\n    server: https://10.0.0.1:6443/\n    certificate-authority-data: ${CA.toString("base64")}`),
    list("users", options.users ?? "- name: dev\n  user:\n    token: s3cret-token"),
    list("contexts", options.contexts ?? "- name: dev\n  context:\n    cluster: dev\n    user: dev\n    namespace: team-a"),
  ].join("\n");
}

function list(key: string, value: string): string {
  return value.startsWith("[") ? `${key}: ${value}` : `${key}:\n${value}`;
}

function rejects(fn: () => unknown, expected: { code: string; file?: string; field?: string; message: RegExp }): BatonError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof BatonError, `expected a BatonError, got ${String(e)}`);
    assert.equal(e.code, expected.code);
    if (expected.file) assert.equal(e.file, expected.file);
    if (expected.field) assert.equal(e.field, expected.field);
    assert.match(e.message, expected.message);
    assert.ok(e.hint, "the error says what to do");
    assert.doesNotMatch(`${e.message} ${e.hint}`, /s3cret/, "no credential in the error");
    return e;
  }
  assert.fail("expected an error");
}

const tempDir = () => mkdtempSync(path.join(tmpdir(), "baton-kubeconfig-"));

test("a token kubeconfig resolves to its server, CA and bearer token", async () => {
  const resolved = resolveKubeConfig(parseKubeConfig(kubeconfig(), "/home/u/.kube/config"));
  assert.equal(resolved.server, "https://10.0.0.1:6443");
  assert.equal(resolved.namespace, "team-a");
  assert.equal(resolved.plugin, undefined);
  const options = await credentialsFor(resolved).requestOptions();
  assert.deepEqual(options.ca, CA);
  assert.deepEqual(options.headers, { Authorization: "Bearer s3cret-token" });
  assert.equal(options.rejectUnauthorized, undefined);
});

test("relative file paths are read against the kubeconfig's folder; the token file is read again on every reload", async () => {
  const dir = tempDir();
  writeFileSync(path.join(dir, "ca.crt"), CA);
  writeFileSync(path.join(dir, "client.crt"), "CERT");
  writeFileSync(path.join(dir, "client.key"), "KEY");
  writeFileSync(path.join(dir, "token"), "first\n");
  const text = kubeconfig({
    clusters: "- name: dev\n  cluster:\n    server: https://k8s.example:443\n    certificate-authority: ca.crt\n    tls-server-name: api.internal",
    users: "- name: dev\n  user:\n    tokenFile: token\n    client-certificate: client.crt\n    client-key: ./client.key",
  });
  const credentials = credentialsFor(resolveKubeConfig(parseKubeConfig(text, path.join(dir, "config"))));
  const first = await credentials.requestOptions();
  assert.deepEqual(first.ca, CA);
  assert.equal(first.cert?.toString(), "CERT");
  assert.equal(first.key?.toString(), "KEY");
  assert.equal(first.servername, "api.internal");
  assert.deepEqual(first.headers, { Authorization: "Bearer first" });
  writeFileSync(path.join(dir, "token"), "rotated\n");
  assert.deepEqual((await credentials.requestOptions()).headers, { Authorization: "Bearer rotated" });
});

test("client certificate data, basic auth, impersonation and insecure-skip-tls-verify", async () => {
  const text = kubeconfig({
    clusters: "- name: dev\n  cluster:\n    server: https://10.0.0.1\n    insecure-skip-tls-verify: true",
    users: `- name: dev\n  user:\n    client-certificate-data: ${Buffer.from("C").toString("base64")}\n    client-key-data: ${Buffer.from("K").toString("base64")}\n    username: admin\n    password: pw\n    as: jane`,
  });
  const options = await credentialsFor(resolveKubeConfig(parseKubeConfig(text, "k"))).requestOptions();
  assert.equal(options.rejectUnauthorized, false);
  assert.equal(options.cert?.toString(), "C");
  assert.equal(options.key?.toString(), "K");
  assert.equal(options.auth, "admin:pw");
  assert.deepEqual(options.headers, { "Impersonate-User": "jane" });
});

test("a context other than current-context can be picked; an unknown one lists the contexts there are", () => {
  const text = kubeconfig({
    clusters: "- name: dev\n  cluster:\n    server: https://dev:6443\n- name: prod\n  cluster:\n    server: https://prod:6443",
    contexts: "- name: dev\n  context:\n    cluster: dev\n    user: dev\n- name: prod\n  context:\n    cluster: prod\n    user: dev",
  });
  assert.equal(resolveKubeConfig(parseKubeConfig(text, "k"), "prod").server, "https://prod:6443");
  const e = rejects(() => resolveKubeConfig(parseKubeConfig(text, "k"), "staging"), { code: "KUBECONFIG_INVALID", file: "k", field: "current-context", message: /no context "staging"/ });
  assert.match(e.hint ?? "", /dev, prod/);
  rejects(() => resolveKubeConfig(parseKubeConfig(kubeconfig({ context: "" }), "k")), { code: "KUBECONFIG_INVALID", field: "current-context", message: /no current-context/ });
});

test("KUBECONFIG files merge as kubectl merges them: the first to name a thing or a current-context wins", () => {
  const first = parseKubeConfig(kubeconfig({ context: "" , clusters: "- name: dev\n  cluster:\n    server: https://first:1" }), "/a");
  const second = parseKubeConfig(kubeconfig({ clusters: "- name: dev\n  cluster:\n    server: https://second:2\n- name: other\n  cluster:\n    server: https://other:3", contexts: "- name: dev\n  context:\n    cluster: dev\n    user: dev\n- name: o\n  context:\n    cluster: other\n    user: dev" }), "/b");
  const merged = mergeKubeConfigs([first, second]);
  assert.equal(resolveKubeConfig(merged).server, "https://first:1", "cluster dev from the first file, current-context from the second");
  assert.equal(resolveKubeConfig(merged, "o").server, "https://other:3");
  rejects(() => resolveKubeConfig(mergeKubeConfigs([parseKubeConfig(kubeconfig({ clusters: "[]" }), "/a"), parseKubeConfig(kubeconfig({ clusters: "[]", users: "[]", contexts: "[]", context: "" }), "/b")])), {
    code: "KUBECONFIG_INVALID", file: "/a", field: "contexts.dev.cluster", message: /names cluster "dev", which the kubeconfig does not define/,
  });
});

test("findKubeConfig: --kubeconfig, else the existing files of KUBECONFIG, else ~/.kube/config, else in-cluster", () => {
  const dir = tempDir();
  const a = path.join(dir, "a");
  writeFileSync(a, kubeconfig({ clusters: "- name: dev\n  cluster:\n    server: https://a:1" }));
  assert.equal(findKubeConfig(a, {}, dir).server, "https://a:1");
  assert.equal(findKubeConfig(undefined, { KUBECONFIG: [path.join(dir, "missing"), a].join(path.delimiter) }, dir).server, "https://a:1");
  rejects(() => findKubeConfig(undefined, { KUBECONFIG: path.join(dir, "missing") }, dir), { code: "KUBECONFIG_NOT_FOUND", message: /none of the files KUBECONFIG lists exists/ });
  rejects(() => findKubeConfig(path.join(dir, "missing"), {}, dir), { code: "KUBECONFIG_NOT_FOUND", file: path.join(dir, "missing"), message: /cannot read the kubeconfig/ });
  assert.equal(findKubeConfig(undefined, { KUBERNETES_SERVICE_HOST: "10.96.0.1", KUBERNETES_SERVICE_PORT: "443" }, dir).source, "the in-cluster service account");
  rejects(() => findKubeConfig(undefined, {}, dir), { code: "KUBECONFIG_NOT_FOUND", message: /no kubeconfig found/ });
});

test("in-cluster: the service's address (IPv6 in brackets), the mounted CA and the projected token", async () => {
  const dir = tempDir();
  writeFileSync(path.join(dir, "ca.crt"), CA);
  writeFileSync(path.join(dir, "token"), "sa-token");
  const resolved = inClusterConfig({ KUBERNETES_SERVICE_HOST: "fd00::1", KUBERNETES_SERVICE_PORT: "443" }, dir);
  assert.equal(resolved.server, "https://[fd00::1]:443");
  const options = await credentialsFor(resolved).requestOptions();
  assert.deepEqual(options.ca, CA);
  assert.deepEqual(options.headers, { Authorization: "Bearer sa-token" });
});

test("bad kubeconfigs: the error names the file and field and says what to do, never a credential", async () => {
  rejects(() => parseKubeConfig("clusters: [\n  token: s3cret", "/k"), { code: "KUBECONFIG_INVALID", file: "/k", message: /not valid YAML/ });
  rejects(() => parseKubeConfig("clusters:\n- name: dev\n  cluster:\n    server: 6443", "/k"), { code: "KUBECONFIG_INVALID", field: "clusters[0].cluster.server", message: /not a valid kubeconfig/ });
  rejects(() => parseKubeConfig("users: {token: s3cret}", "/k"), { code: "KUBECONFIG_INVALID", field: "users", message: /not a valid kubeconfig/ });
  rejects(() => parseKubeConfig(kubeconfig({ users: "- name: dev\n  user: {}\n- name: dev\n  user:\n    token: s3cret" }), "/k"), { code: "KUBECONFIG_INVALID", field: "users[1].name", message: /defines user "dev" twice/ });
  rejects(() => resolveKubeConfig(parseKubeConfig(kubeconfig({ clusters: "- name: dev\n  cluster:\n    server: 10.0.0.1:6443" }), "/k")), { code: "KUBECONFIG_INVALID", field: "clusters.dev.server", message: /not an http\(s\) URL/ });
  rejects(() => resolveKubeConfig(parseKubeConfig(kubeconfig({ users: "- name: dev\n  user:\n    client-certificate-data: QQ==" }), "/k")), { code: "KUBECONFIG_INVALID", field: "users.dev.client-key", message: /certificate without its key/ });
  rejects(() => resolveKubeConfig(parseKubeConfig(kubeconfig({ clusters: "- name: dev\n  cluster:\n    server: https://x\n    certificate-authority: ca.crt\n    insecure-skip-tls-verify: true" }), "/k")), { code: "KUBECONFIG_INVALID", field: "clusters.dev.insecure-skip-tls-verify", message: /skips TLS verification/ });
  rejects(() => resolveKubeConfig(parseKubeConfig(kubeconfig({ users: "[]" }), "/k")), { code: "KUBECONFIG_INVALID", field: "contexts.dev.user", message: /names user "dev"/ });
  const dir = tempDir();
  const credentials = credentialsFor(resolveKubeConfig(parseKubeConfig(kubeconfig({ users: "- name: dev\n  user:\n    tokenFile: gone" }), path.join(dir, "config"))));
  await assert.rejects(credentials.requestOptions(), (e: unknown) => e instanceof BatonError && e.code === "KUBECONFIG_INVALID" && e.file === path.join(dir, "gone") && /cannot read the token file/.test(e.message));
});

test("an exec plugin user gets its token from the plugin (through @kubernetes/client-node, loaded only then)", async () => {
  const credential = JSON.stringify({ apiVersion: "client.authentication.k8s.io/v1", kind: "ExecCredential", status: { token: "from-plugin" } });
  const text = kubeconfig({
    users: [
      "- name: dev", "  user:", "    exec:", "      apiVersion: client.authentication.k8s.io/v1", "      interactiveMode: Never",
      `      command: ${JSON.stringify(process.execPath)}`, "      args:", "      - -e", `      - ${JSON.stringify(`process.stdout.write(${JSON.stringify(credential)})`)}`,
    ].join("\n"),
  });
  const resolved = resolveKubeConfig(parseKubeConfig(text, "/k"));
  assert.ok(resolved.plugin, "exec users are delegated");
  const options = await credentialsFor(resolved).requestOptions();
  assert.equal((options.headers as Record<string, string>).Authorization, "Bearer from-plugin");
  assert.deepEqual(options.ca, CA, "the cluster's CA still applies");
});

test("proxy-url: an http(s) proxy is kept with the credentials; SOCKS5 and non-URLs are refused without echoing the URL", () => {
  const withProxy = (proxy: string) => kubeconfig({ clusters: `- name: dev\n  cluster:\n    server: https://10.0.0.1:6443\n    proxy-url: ${proxy}` });
  const resolved = resolveKubeConfig(parseKubeConfig(withProxy("http://user:s3cret@proxy.example.com:3128"), "/k"));
  assert.equal(resolved.proxyUrl, "http://user:s3cret@proxy.example.com:3128");
  assert.equal(credentialsFor(resolved).proxyUrl, "http://user:s3cret@proxy.example.com:3128");
  assert.equal(credentialsFor(resolveKubeConfig(parseKubeConfig(kubeconfig(), "/k"))).proxyUrl, undefined);
  rejects(() => resolveKubeConfig(parseKubeConfig(withProxy("socks5://user:s3cret@proxy.example.com:1080"), "/k")), { code: "KUBECONFIG_INVALID", file: "/k", field: "clusters.dev.proxy-url", message: /SOCKS5 proxy, which Baton does not support/ });
  rejects(() => resolveKubeConfig(parseKubeConfig(withProxy("proxy:s3cret"), "/k")), { code: "KUBECONFIG_INVALID", field: "clusters.dev.proxy-url", message: /not an http\(s\) URL/ });
});
