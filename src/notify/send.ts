/**
 * Sending notifications. Failures are logged and swallowed: a chat outage must never block a deploy
 * or a promotion. Each request has a short timeout; notifiers are called concurrently.
 */
import type { NotifierSpec } from "../config/pipeline.js";
import type { Logger } from "../log.js";
import { redactUrl } from "../log.js";
import { dingTalkSignedUrl, formatPayload, wants, type NotifyEvent } from "./format.js";

export interface SendResult {
  notifier: string;
  ok: boolean;
  error?: string;
}

export async function notify(notifiers: NotifierSpec[] | undefined, event: NotifyEvent, log: Logger, env: NodeJS.ProcessEnv = process.env): Promise<SendResult[]> {
  return Promise.all((notifiers ?? []).filter((n) => wants(n, event)).map(async (n): Promise<SendResult> => {
    try {
      let url = n.url ?? (n.urlEnv ? env[n.urlEnv] : undefined);
      if (!url) throw new Error(`environment variable ${n.urlEnv} is not set`);
      if (n.type === "dingtalk" && n.secretEnv) {
        const secret = env[n.secretEnv];
        if (!secret) throw new Error(`environment variable ${n.secretEnv} is not set`);
        url = dingTalkSignedUrl(url, secret, Date.now());
      }
      const res = await fetch(url, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(formatPayload(n.type, event)), signal: AbortSignal.timeout(5000) });
      if (!res.ok) throw new Error(`HTTP ${res.status} from ${redactUrl(url.split("?")[0] ?? url)}`);
      log.info({ action: "notify", notifier: n.name, event: event.type, env: event.environment }, "notification sent");
      return { notifier: n.name, ok: true };
    } catch (e) {
      const error = e instanceof Error ? e.message : String(e);
      log.warn({ action: "notify", notifier: n.name, event: event.type, err: error }, "notification failed (ignored)");
      return { notifier: n.name, ok: false, error };
    }
  }));
}
