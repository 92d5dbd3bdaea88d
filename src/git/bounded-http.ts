/**
 * isomorphic-git's Node HTTP client with limits: one deadline for a whole git operation (a server that
 * drips one byte every few seconds never finishes one), a cap on the bytes a server may send (a 150 MB
 * pack is refused, not read whole), and the caller's AbortSignal (leadership lost, shutdown). Waiting
 * for headers and for every body chunk races the signal, so a stuck socket cannot outlive it.
 *
 * A request whose connection is reset before any response byte is sent once more on a new connection:
 * Node keeps connections alive between requests, and after the git server restarts the first request
 * on a pooled connection meets a reset (the pattern Node documents with `request.reusedSocket`; curl
 * does the same). isomorphic-git's client (simple-get) neither retries nor shows whether the socket was
 * reused, so any reset before the response is retried once: git's requests here only read, and a
 * server that resets every connection fails at the second attempt.
 */
import http from "isomorphic-git/http/node";
import type { GitHttpRequest, GitHttpResponse, HttpClient } from "isomorphic-git";
import { BatonError } from "../errors.js";

export const GIT_TIMEOUT_MS = 60_000;
export const GIT_MAX_BYTES = 64 * 1024 * 1024;

export interface GitLimits {
  /** Deadline of one whole operation (ls-remote, or fetch + checkout). */
  timeoutMs?: number;
  /** Bytes all responses of one operation may add up to. */
  maxBytes?: number;
  /** Cancels the operation (leadership lost, shutdown). */
  signal?: AbortSignal;
}

/** How a connection the server no longer knows fails a request sent on it. */
const CONNECTION_RESET = new Set(["ECONNRESET", "EPIPE"]);

const formatBytes = (n: number): string => (n >= 1024 * 1024 ? `${Math.round(n / 1024 / 1024)} MiB` : `${Math.round(n / 1024)} KiB`);

/** A limited client for one operation; `violation()` tells afterwards whether a limit ended it. */
export function boundedHttp(limits: GitLimits = {}): { client: HttpClient; violation(): BatonError | undefined } {
  const timeoutMs = limits.timeoutMs ?? GIT_TIMEOUT_MS;
  const maxBytes = limits.maxBytes ?? GIT_MAX_BYTES;
  const deadline = AbortSignal.timeout(timeoutMs);
  const signal = limits.signal ? AbortSignal.any([deadline, limits.signal]) : deadline;
  let violation: BatonError | undefined;
  let received = 0;

  const stopped = (): BatonError => {
    violation ??= deadline.aborted
      ? new BatonError("GIT_FAILED", `the git server sent no complete answer within ${timeoutMs / 1000} s`, { field: "spec.url", hint: "check the git server; a server that answers slowly is treated as down and retried" })
      : new BatonError("GIT_FAILED", "git request cancelled (leadership lost or shutting down)", { hint: "nothing to do: the next leader fetches again" });
    return violation;
  };
  /** Settles with `promise`, or rejects as soon as the operation is cancelled. */
  const race = <T>(promise: Promise<T>): Promise<T> => {
    promise.catch(() => undefined); // the loser of the race must not become an unhandled rejection
    if (signal.aborted) return Promise.reject(stopped());
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => reject(stopped());
      signal.addEventListener("abort", onAbort, { once: true });
      promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
    });
  };

  async function* capped(body: AsyncIterableIterator<Uint8Array>): AsyncIterableIterator<Uint8Array> {
    try {
      for (;;) {
        const next = await race(body.next());
        if (next.done) return;
        received += next.value.byteLength;
        if (received > maxBytes) {
          violation ??= new BatonError("GIT_FAILED", `the git server sent more than ${formatBytes(maxBytes)}`, {
            field: "spec.url", hint: "the agent fetches one commit (depth 1); keep large files out of the config repo, or raise --git-max-bytes",
          });
          throw violation;
        }
        yield next.value;
      }
    } finally {
      await body.return?.(); // closes the socket of an abandoned response
    }
  }

  const send = async (req: GitHttpRequest): Promise<GitHttpResponse> => {
    try {
      return await http.request({ ...req, signal });
    } catch (e) {
      // A body given as a list of chunks (isomorphic-git's fetch) can be sent again; a stream cannot.
      const replayable = req.body === undefined || Array.isArray(req.body);
      if (signal.aborted || !replayable || !CONNECTION_RESET.has((e as { code?: unknown }).code as string)) throw e;
      return http.request({ ...req, signal, agent: false }); // agent false: a new connection, not a pooled one
    }
  };

  const client: HttpClient = {
    async request(req: GitHttpRequest): Promise<GitHttpResponse> {
      const res = await race(send(req));
      return res.body ? { ...res, body: capped(res.body) } : res;
    },
  };
  return { client, violation: () => violation };
}
