/**
 * Promotion windows: five-field cron expressions that describe the minutes in which promotions into an
 * environment may merge, evaluated by croner (a maintained cron library with IANA time zones and DST
 * handling) instead of a hand-written matcher. "* 9-16 * * 1-5" = any minute from 09:00 to 16:59, Monday
 * to Friday. Standard cron rules apply, including `L` (last day of the month), `1#2` (second Monday) and
 * day-of-month OR day-of-week when both are restricted.
 */
import { Cron } from "croner";

/** A window in a time zone; constructing it validates the expression (throws on a bad one). */
function window(expression: string, timeZone: string): Cron {
  // No function: the Cron object only evaluates, it never schedules a timer.
  return new Cron(expression, { timezone: timeZone, mode: "5-part" });
}

/** Undefined when `expression` is a valid five-field cron expression, else croner's reason. */
export function cronProblem(expression: string): string | undefined {
  try {
    window(expression, "UTC");
    return undefined;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

export function cronMatches(expression: string, date: Date, timeZone = "UTC"): boolean {
  // Windows are minutes: match the start of the minute `date` falls in.
  return window(expression, timeZone).match(new Date(Math.floor(date.getTime() / 60_000) * 60_000));
}

export interface WindowDecision {
  open: boolean;
  reason: string;
}

export function windowDecision(windows: string[] | undefined, now: Date, timeZone = "UTC"): WindowDecision {
  if (!windows || windows.length === 0) return { open: true, reason: "no promotion windows configured" };
  const match = windows.find((w) => cronMatches(w, now, timeZone));
  return match
    ? { open: true, reason: `inside promotion window "${match}" (${timeZone})` }
    : { open: false, reason: `outside promotion windows ${windows.map((w) => `"${w}"`).join(", ")} (${timeZone})` };
}

/** The next minute after `from` at which any window opens (croner searches forward, years if need be). */
export function nextWindowOpen(windows: string[], from: Date, timeZone = "UTC"): Date | undefined {
  const next = windows.map((w) => window(w, timeZone).nextRun(from)).filter((d): d is Date => d !== null);
  return next.length > 0 ? new Date(Math.min(...next.map((d) => d.getTime()))) : undefined;
}

/** "Mon 2026-11-30 09:00 Europe/Berlin": when a window opens, in the environment's own time zone. */
export function formatWindowTime(date: Date, timeZone = "UTC"): string {
  const parts = new Intl.DateTimeFormat("en-GB", { timeZone, weekday: "short", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).formatToParts(date);
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? "";
  return `${get("weekday")} ${get("year")}-${get("month")}-${get("day")} ${get("hour")}:${get("minute")} ${timeZone}`;
}
