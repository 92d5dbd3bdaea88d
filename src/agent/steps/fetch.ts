/**
 * Step 1, fetch: the Environment's git credentials, then a checkout of the branch head shared with every
 * Environment of the same repository, branch and credentials (no request at all while the head seen by
 * any of them is fresh enough; one fetch per new revision). The source is named to the agent's poller
 * first, which from then on checks its head once per interval for all its Environments.
 */
import { BatonError } from "../../errors.js";
import { checkRemoteUrl, type GitAuth } from "../../git/fetch.js";
import type { KubeClient } from "../../kube/client.js";
import { registerSecret } from "../../util/secrets.js";
import type { EnvironmentSpec } from "../environment.js";
import type { Fetched, StepContext } from "./context.js";

export async function fetchStep(ctx: StepContext): Promise<Fetched> {
  checkRemoteUrl(ctx.spec.url, ctx.git);
  const namespace = ctx.owner.namespace;
  const credentials = await readCredentials(ctx.agent, namespace, ctx.spec);
  const source = { url: ctx.spec.url, branch: ctx.spec.branch, ...(credentials.git ? { auth: credentials.git } : {}) };
  ctx.onSource?.(source);
  // A push's run fetches at once, the fetch being the head check (one git round trip instead of two); a fetch
  // that finds the head it already has reads the ref advertisement only (no pack; see fetchToGitdir).
  const fetched = await ctx.sources.checkout(source, { ...ctx.git, maxAgeMs: ctx.sourceMaxAgeMs, expectNewHead: ctx.sourceMoved });
  ctx.log.debug({ revision: fetched.revision, fetched: fetched.fetched }, "fetched");
  return { revision: fetched.revision, dir: fetched.dir, credentials, release: fetched.release };
}

async function readCredentials(client: KubeClient, namespace: string, spec: EnvironmentSpec): Promise<Fetched["credentials"]> {
  if (!spec.secretRef) return {};
  const secret = await client.get("v1", "Secret", namespace, spec.secretRef.name);
  if (!secret) throw new BatonError("GIT_FAILED", `secret ${namespace}/${spec.secretRef.name} not found`, { field: "spec.secretRef.name", hint: "create the secret with keys username/password or token" });
  const data = (secret.data ?? {}) as Record<string, string>;
  const field = (k: string) => (data[k] ? Buffer.from(data[k], "base64").toString("utf8") : undefined);
  const auth: GitAuth = {};
  const username = field("username"), password = field("password"), token = field("token");
  if (username) auth.username = username;
  if (password) auth.password = password;
  if (token) auth.token = token;
  const githubToken = field("githubToken");
  for (const value of [username, password, token, githubToken]) registerSecret(value);
  return { ...(username || password || token ? { git: auth } : {}), ...(githubToken ? { githubToken } : {}) };
}
