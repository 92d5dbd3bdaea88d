/**
 * Promotion windows: cron expressions (node-cron syntax) that describe the minutes in which promotions
 * into an environment may merge. "* 9-16 * * 1-5" = any minute from 09:00 to 16:59, Monday to Friday.
 */
import { parse as parseCron } from "node-cron";

interface Fields {
  minute: number[];
  hour: number[];
  dayOfMonth: number[];
  month: number[];
  dayOfWeek: number[];
}

/** Minute, hour, day, month (1-12) and weekday (0 = Sunday) of `date` in `timeZone`. */
function partsIn(date: Date, timeZone: string): { minute: number; hour: number; day: number; month: number; weekday: number } {
  const parts = new Intl.DateTimeFormat("en-US", { timeZone, hourCycle: "h23", minute: "numeric", hour: "numeric", day: "numeric", month: "numeric", weekday: "short" }).formatToParts(date);
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? "";
  const weekdays = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
  return { minute: Number(get("minute")), hour: Number(get("hour")), day: Number(get("day")), month: Number(get("month")), weekday: weekdays.indexOf(get("weekday")) };
}

export function cronMatches(expression: string, date: Date, timeZone = "UTC"): boolean {
  const f = parseCron(expression) as unknown as Fields;
  const p = partsIn(date, timeZone);
  // node-cron may express Sunday as 0 or 7.
  const dow = f.dayOfWeek.map((d) => d % 7);
  return f.minute.includes(p.minute) && f.hour.includes(p.hour) && f.dayOfMonth.includes(p.day) && f.month.includes(p.month) && dow.includes(p.weekday);
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

/** The next minute at which a window opens, searching up to 8 days ahead; for messages only. */
export function nextWindowOpen(windows: string[], from: Date, timeZone = "UTC"): Date | undefined {
  const start = new Date(Math.ceil(from.getTime() / 60_000) * 60_000);
  for (let i = 0; i < 8 * 24 * 60; i++) {
    const t = new Date(start.getTime() + i * 60_000);
    if (windows.some((w) => cronMatches(w, t, timeZone))) return t;
  }
  return undefined;
}
