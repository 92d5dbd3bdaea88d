/** Kubernetes API requests one tool sent through its ApiProxy, sorted into what they cost the API server. */
import type { ForwardedRequest } from "../../test/support/api-proxy.js";

export interface RequestCounts {
  /** Every request, a watch counted once when it is opened. */
  total: number;
  reads: number;
  watches: number;
  /** Server-side dry-run applies (PATCH/POST with dryRun=All): the API server does the work of a write. */
  dryRuns: number;
  /** Writes that persist: create, update, patch, delete (including status updates). */
  writes: number;
}

export function countRequests(requests: readonly ForwardedRequest[], from: number, to: number): RequestCounts {
  const counts: RequestCounts = { total: 0, reads: 0, watches: 0, dryRuns: 0, writes: 0 };
  for (const r of requests) {
    if (r.at < from || r.at >= to) continue;
    counts.total++;
    const query = new URL(r.path, "http://api").searchParams;
    if (r.method === "GET" || r.method === "HEAD") {
      if (query.get("watch") === "true" || query.get("watch") === "1") counts.watches++;
      else counts.reads++;
    } else if (query.getAll("dryRun").includes("All")) counts.dryRuns++;
    else counts.writes++;
  }
  return counts;
}

/** Counts divided by `intervals`, rounded to one decimal. */
export function perInterval(c: RequestCounts, intervals: number): RequestCounts {
  const d = (n: number) => Math.round((n / intervals) * 10) / 10;
  return { total: d(c.total), reads: d(c.reads), watches: d(c.watches), dryRuns: d(c.dryRuns), writes: d(c.writes) };
}

export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] ?? Number.NaN;
}
