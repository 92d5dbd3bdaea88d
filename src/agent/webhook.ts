/**
 * GitHub `push` webhooks: verify the HMAC signature (X-Hub-Signature-256) over the raw body, then find
 * the Environments that follow the pushed repository and branch. Pure functions; the server wires them.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { z } from "zod";

export function verifySignature(secret: string, body: Buffer, header: string | undefined): boolean {
  if (!secret || !header || !header.startsWith("sha256=")) return false;
  const expected = Buffer.from(`sha256=${createHmac("sha256", secret).update(body).digest("hex")}`);
  const given = Buffer.from(header);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

export const PushEventSchema = z.object({
  ref: z.string(),
  after: z.string().optional(),
  repository: z.object({
    clone_url: z.string().optional(),
    html_url: z.string().optional(),
    ssh_url: z.string().optional(),
    full_name: z.string().optional(),
  }),
});
export type PushEvent = z.infer<typeof PushEventSchema>;

/** `https://github.com/Acme/Config.git` → `github.com/acme/config`, so http, ssh and .git forms compare equal. */
export function normalizeRepoUrl(url: string): string {
  let u = url.trim().toLowerCase().replace(/\.git$/, "").replace(/\/$/, "");
  u = u.replace(/^[a-z+]+:\/\//, "").replace(/^[^@/]+@/, "");
  return u.replace(/^([^/:]+):(?!\d)/, "$1/");
}

export function pushMatches(event: PushEvent, env: { url: string; branch: string }): boolean {
  if (event.ref !== `refs/heads/${env.branch}`) return false;
  const target = normalizeRepoUrl(env.url);
  const candidates = [event.repository.clone_url, event.repository.html_url, event.repository.ssh_url].filter((u): u is string => !!u).map(normalizeRepoUrl);
  if (event.repository.full_name) candidates.push(event.repository.full_name.toLowerCase());
  return candidates.some((c) => c === target || target.endsWith(`/${c}`));
}
