/** The agent's HTTP endpoints: /healthz, /readyz, /metrics and the GitHub /webhook. */
import http from "node:http";
import type { Logger } from "../log.js";
import type { Metrics } from "./metrics.js";
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

export function createAgentServer(deps: ServerDeps): http.Server {
  return http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const send = (status: number, body: string, type = "text/plain") => res.writeHead(status, { "Content-Type": type }).end(body);
    if (req.method === "GET" && url.pathname === "/healthz") return send(200, "ok\n");
    if (req.method === "GET" && url.pathname === "/readyz") {
      const { ready, reason } = deps.ready();
      return send(ready ? 200 : 503, `${ready ? "ok" : "not ready"}: ${reason}\n`);
    }
    if (req.method === "GET" && url.pathname === "/metrics") {
      deps.metrics.render().then((text) => send(200, text, deps.metrics.contentType), () => send(500, "metrics unavailable\n"));
      return;
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
      if (!deps.webhookSecret || !verifySignature(deps.webhookSecret, body, req.headers["x-hub-signature-256"] as string | undefined)) {
        deps.log.warn({ action: "webhook" }, "rejected webhook with a missing or wrong signature");
        return send(401, "invalid signature\n");
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
      deps.onPush(parsed).then((triggered) => {
        deps.log.info({ action: "webhook", ref: parsed.ref, triggered }, "push received");
        send(202, JSON.stringify({ triggered }), "application/json");
      }, (e: unknown) => {
        deps.log.error({ action: "webhook", err: e instanceof Error ? e.message : String(e) }, "push could not be handled");
        send(503, "could not trigger a reconcile; it will happen at the next interval\n");
      });
    });
  });
}
