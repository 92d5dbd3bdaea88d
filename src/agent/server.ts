/**
 * The agent's HTTP endpoints: /healthz, /readyz and the GitHub /webhook on one port (the one an Ingress
 * may expose), /metrics on another (scraped from inside the cluster only).
 */
import http from "node:http";
import type { Logger } from "../log.js";
import type { Metrics } from "./metrics.js";
import { DeliveryLog, RateLimiter } from "./replay.js";
import { PushEventSchema, verifySignature, type PushEvent } from "./webhook.js";

export interface ServerDeps {
  metrics: Metrics;
  log: Logger;
  webhookSecret?: string;
  /** Ready to serve, and why (see readiness.ts). */
  ready: () => { ready: boolean; reason: string };
  onPush: (event: PushEvent) => Promise<string[]>;
}

const MAX_BODY = 5 * 1024 * 1024;

export function createMetricsServer(metrics: Metrics): http.Server {
  return http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const send = (status: number, body: string, type = "text/plain") => res.writeHead(status, { "Content-Type": type }).end(body);
    if (req.method === "GET" && url.pathname === "/metrics") {
      metrics.render().then((text) => send(200, text, metrics.contentType), () => send(500, "metrics unavailable\n"));
      return;
    }
    send(404, "not found\n");
  });
}

export function createAgentServer(deps: ServerDeps): http.Server {
  const deliveries = new DeliveryLog();
  const rejections = new RateLimiter();
  const reject = (send: (status: number, body: string) => void, status: number, reason: string, remote: string | undefined) => {
    const suppressed = rejections.take();
    if (suppressed !== undefined) deps.log.warn({ action: "webhook", status, remote, ...(suppressed > 0 ? { suppressed } : {}) }, `rejected webhook: ${reason}`);
    send(status, `${reason}\n`);
  };
  return http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const send = (status: number, body: string, type = "text/plain") => res.writeHead(status, { "Content-Type": type }).end(body);
    if (req.method === "GET" && url.pathname === "/healthz") return send(200, "ok\n");
    if (req.method === "GET" && url.pathname === "/readyz") {
      const { ready, reason } = deps.ready();
      return send(ready ? 200 : 503, `${ready ? "ok" : "not ready"}: ${reason}\n`);
    }
    if (url.pathname !== "/webhook") return send(404, "not found\n");
    if (req.method !== "POST") return send(405, "use POST\n");
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) req.destroy();
      else chunks.push(c);
    });
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const remote = req.socket.remoteAddress;
      if (!deps.webhookSecret || !verifySignature(deps.webhookSecret, body, req.headers["x-hub-signature-256"] as string | undefined)) {
        return reject(send, 401, "invalid signature", remote);
      }
      const event = req.headers["x-github-event"];
      if (event === "ping") return send(200, "pong\n");
      if (event !== "push") return send(202, `ignored event ${String(event)}\n`);
      let parsed: PushEvent;
      try {
        const result = PushEventSchema.safeParse(JSON.parse(body.toString("utf8")));
        if (!result.success) return send(400, "not a push event payload\n");
        parsed = result.data;
      } catch {
        return send(400, "body is not JSON\n");
      }
      // 200, not an error: GitHub shows the replay as delivered, and an attacker learns nothing new.
      const header = req.headers["x-github-delivery"];
      const delivery = typeof header === "string" && header !== "" ? header : undefined;
      if (!deliveries.claim(delivery, body)) return reject(send, 200, "duplicate delivery ignored", remote);
      deps.onPush(parsed).then((triggered) => {
        deps.log.info({ action: "webhook", ref: parsed.ref, triggered }, "push received");
        send(202, JSON.stringify({ triggered }), "application/json");
      }, (e: unknown) => {
        deliveries.release(delivery, body);
        deps.log.error({ action: "webhook", err: e instanceof Error ? e.message : String(e) }, "push could not be handled");
        send(503, "could not trigger a reconcile; it will happen at the next interval\n");
      });
    });
  });
}
