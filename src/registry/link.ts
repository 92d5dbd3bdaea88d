/**
 * The distribution API paginates tag lists with an RFC 8288 `Link: <…>; rel="next"` header. The next page
 * is resolved against the request URL and must stay on the same origin (a registry cannot send our
 * credentials elsewhere by naming another host in a Link header).
 */
export function nextPageUrl(link: string | null, current: string): string | undefined {
  if (!link) return undefined;
  for (const part of link.split(/,(?=\s*<)/)) {
    const m = /^\s*<([^>]*)>\s*(.*)$/.exec(part);
    if (!m?.[1]) continue;
    const params = m[2] ?? "";
    if (!/(^|;)\s*rel="?([^";]*\s)?next(\s[^";]*)?"?\s*(;|$)/i.test(params)) continue;
    let next: URL;
    try {
      next = new URL(m[1], current);
    } catch {
      return undefined;
    }
    return next.origin === new URL(current).origin ? next.toString() : undefined;
  }
  return undefined;
}

/** Seconds to wait from a `Retry-After` header (delta-seconds or an HTTP date); undefined when absent or unreadable. */
export function retryAfterMs(header: string | null, now: number = Date.now()): number | undefined {
  if (header === null || header.trim() === "") return undefined;
  const text = header.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
