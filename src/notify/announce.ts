/**
 * Notifications from the CLI side (promotion and rollback PRs opened): best effort, failures become a
 * progress line, never an error. Deploy results are sent by the agent.
 */
import type { Pipeline } from "../config/pipeline.js";
import { silentLogger } from "../log.js";
import { notify } from "./send.js";
import type { NotifyEvent } from "./format.js";

export async function announce(pipeline: Pipeline, event: Omit<NotifyEvent, "at">, progress: (message: string) => void): Promise<void> {
  const results = await notify(pipeline.notifications, { ...event, at: new Date().toISOString() }, silentLogger);
  for (const r of results.filter((x) => !x.ok)) progress(`notification ${r.notifier} failed (ignored): ${r.error}`);
}
