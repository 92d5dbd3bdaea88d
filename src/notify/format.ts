/**
 * Notification payloads, pure: one event, three wire formats (generic JSON, Slack incoming webhook,
 * DingTalk robot). DingTalk's signature is computed here too so it can be unit-tested.
 */
import { createHmac } from "node:crypto";
import type { NotifierSpec } from "../config/pipeline.js";

export type NotifyEventType = NonNullable<NotifierSpec["events"]>[number];

export interface NotifyEvent {
  type: NotifyEventType;
  environment: string;
  /** One line for people. */
  summary: string;
  revision?: string;
  images?: Record<string, string>;
  url?: string;
  at: string;
}

const ICON: Record<NotifyEventType, string> = {
  "promotion.opened": "📦",
  "promotion.merged": "🚀",
  "deploy.succeeded": "✅",
  "deploy.failed": "❌",
  "rollback.opened": "⏪",
  "release.pending": "⏸️",
  "release.confirmed": "🟢",
  "release.aborted": "🛑",
};

export function formatPayload(type: NotifierSpec["type"], event: NotifyEvent): unknown {
  const text = `${ICON[event.type]} [${event.environment}] ${event.summary}${event.revision ? ` (${event.revision.slice(0, 12)})` : ""}${event.url ? `\n${event.url}` : ""}`;
  switch (type) {
    case "slack":
      return { text };
    case "dingtalk":
      return { msgtype: "text", text: { content: text } };
    case "webhook":
      return { source: "baton", ...event };
  }
}

/** DingTalk robots with "sign" security: `timestamp` and `sign` query parameters. */
export function dingTalkSignedUrl(url: string, secret: string, now: number): string {
  const sign = createHmac("sha256", secret).update(`${now}\n${secret}`).digest("base64");
  const u = new URL(url);
  u.searchParams.set("timestamp", String(now));
  u.searchParams.set("sign", sign);
  return u.toString();
}

export function wants(notifier: NotifierSpec, event: NotifyEvent): boolean {
  return (!notifier.events || notifier.events.includes(event.type)) && (!notifier.environments || notifier.environments.includes(event.environment));
}
