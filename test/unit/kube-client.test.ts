// The Kubernetes client's deadlines and cancellation, against a loopback HTTP server that misbehaves.
import { test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import net, { type AddressInfo } from "node:net";
import { KubeConfig } from "@kubernetes/client-node";
import { KubeClient, RequestAbortedError } from "../../src/kube/client.js";

async function server(handler: http.RequestListener): Promise<{ url: string; close(): Promise<void> }> {
  const s = http.createServer(handler);
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(s.address() as AddressInfo).port}`,
    close: () => new Promise((r) => {
      s.closeAllConnections();
      s.close(() => r());
    }),
  };
}

function kubeConfig(url: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({ clusters: [{ name: "c", server: url, skipTLSVerify: true }], users: [{ name: "u" }], contexts: [{ name: "x", cluster: "c", user: "u" }], currentContext: "x" });
  return kc;
}

test("a server that drips its answer hits the request deadline (the whole exchange, not idle time)", async () => {
  const drip = await server((_req, res) => {
    res.writeHead(200, { "Content-Type": "application/json" });
    res.write("{");
    const timer = setInterval(() => res.write(" "), 20);
    res.on("close", () => clearInterval(timer));
  });
  const client = new KubeClient(kubeConfig(drip.url), { requestTimeoutMs: 300 });
  try {
    await assert.rejects(client.request("GET", "/api/v1/namespaces"), /no answer within 300 ms/);
  } finally {
    client.close();
    await drip.close();
  }
});

test("a client bound to a signal sends nothing once it aborted, and cancels what is in flight", async () => {
  const seen: string[] = [];
  let closed = 0;
  const hang = await server((req, res) => {
    seen.push(`${req.method} ${req.headers["user-agent"]}`);
    res.on("close", () => closed++); // never answered: only the client can end it
  });
  const base = new KubeClient(kubeConfig(hang.url), { userAgent: "baton-agent/test-1" });
  const term = new AbortController();
  const bound = base.withSignal(term.signal);
  try {
    const inFlight = bound.request("PUT", "/api/v1/namespaces/x", { a: 1 });
    for (let i = 0; i < 200 && seen.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(seen, ["PUT baton-agent/test-1"]);
    term.abort(new Error("leadership lost"));
    await assert.rejects(inFlight, (e: Error) => e instanceof RequestAbortedError && /cancelled \(leadership lost\)/.test(e.message));
    await assert.rejects(bound.request("DELETE", "/api/v1/namespaces/x"), /leadership lost/);
    for (let i = 0; i < 200 && closed === 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(closed, 1, "the server saw the cancelled request's connection close");
    assert.deepEqual(seen, ["PUT baton-agent/test-1"], "the write after the abort was never sent");
    assert.equal(base.stats.writes, 1, "views share the counters of their client");
  } finally {
    base.close();
    await hang.close();
  }
});

test("an impersonating view sends Impersonate-User on every request, keeps the signal, and leaves the client as it was", async () => {
  const seen: Array<string | undefined> = [];
  const echo = await server((req, res) => {
    seen.push(req.headers["impersonate-user"] as string | undefined);
    res.writeHead(200, { "Content-Type": "application/json" });
    res.end("{}");
  });
  const base = new KubeClient(kubeConfig(echo.url));
  const term = new AbortController();
  const view = base.withSignal(term.signal).impersonating("system:serviceaccount:team-a:deployer");
  try {
    await view.request("GET", "/api/v1/namespaces/team-a/configmaps");
    await view.withSignal(new AbortController().signal).request("PATCH", "/api/v1/namespaces/team-a/configmaps/x", {});
    await base.request("GET", "/api/v1/namespaces");
    assert.deepEqual(seen, ["system:serviceaccount:team-a:deployer", "system:serviceaccount:team-a:deployer", undefined]);
    assert.equal(view.describeIdentity(), "ServiceAccount team-a/deployer");
    assert.equal(base.describeIdentity(), "the agent");
    term.abort(new Error("leadership lost"));
    await assert.rejects(view.request("GET", "/api/v1/namespaces"), /leadership lost/);
  } finally {
    base.close();
    await echo.close();
  }
});

test("with a proxy-url every connection to the API server is a CONNECT tunnel through the proxy, kept alive", async () => {
  const api = await server((req, res) => {
    res.writeHead(200, { "Content-Type": "application/json" });
    res.end(JSON.stringify({ kind: "NamespaceList", items: [], path: req.url }));
  });
  // A CONNECT proxy: records what it was asked to reach and with which credentials, then pipes bytes.
  const tunnels: string[] = [];
  const proxy = http.createServer((_req, res) => res.writeHead(405).end());
  proxy.on("connect", (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    tunnels.push(`${req.url ?? ""} ${req.headers["proxy-authorization"] ?? "no auth"}`);
    const [host, port] = (req.url ?? "").split(":");
    const upstream = net.connect(Number(port), host ?? "127.0.0.1", () => {
      client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on("error", () => client.destroy());
    client.on("error", () => upstream.destroy());
  });
  await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", r));
  const proxyUrl = `http://baton:pr0xy-pass@127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  const client = new KubeClient({ server: api.url, proxyUrl, requestOptions: async () => ({}) });
  try {
    const first = await client.request<{ path: string }>("GET", "/api/v1/namespaces");
    const second = await client.request<{ path: string }>("GET", "/api/v1/namespaces?limit=1");
    assert.deepEqual([first.path, second.path], ["/api/v1/namespaces", "/api/v1/namespaces?limit=1"]);
    const apiHost = new URL(api.url).host;
    assert.deepEqual(tunnels, [`${apiHost} Basic ${Buffer.from("baton:pr0xy-pass").toString("base64")}`], "one tunnel, reused for the second request, with the proxy's credentials");
  } finally {
    client.close();
    proxy.closeAllConnections();
    await new Promise((r) => proxy.close(r));
    await api.close();
  }
});
