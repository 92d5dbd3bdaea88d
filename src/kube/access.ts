/**
 * Permission preflight: before a reconcile writes anything, ask the API server whether the identity
 * (the agent, or the ServiceAccount it impersonates) may make every write and delete of the plan, with
 * one SelfSubjectAccessReview per (verb, resource, namespace). A refusal is then a clear error naming
 * the object, with nothing applied — cheaper and more complete than a dry-run of every create (creates
 * are not dry-run; a 403 in the middle of a stage would leave half of it applied), and it covers
 * deletes, which have no dry-run in the apply path. An idle reconcile (nothing to write) asks nothing.
 *
 * Allowed answers are remembered for ACCESS_REVIEW_TTL_MS per identity and (verb, group, resource,
 * namespace), so pushes in quick succession do not ask again (4 reviews, one API round trip, before every
 * write of a 10-object Environment). Why that is safe: the preflight grants nothing. Every write is still
 * made as that identity and authorised by the API server itself; the preflight only makes a refusal come
 * before the first write instead of in the middle. A permission revoked within the TTL is therefore still
 * refused, by the dry-run that precedes every update (authorised like the write) or by the write itself
 * (a stage's new objects are then deleted again, as after any failed create). Denials are never
 * remembered: a permission granted after a refusal is used by the very next run. The API server's own
 * webhook authorizer caches allowed answers for 5 minutes by default; 30 s is well inside that.
 */
import { BatonError } from "../errors.js";
import { formatId, type ObjectId } from "../config/objects.js";
import { mapLimit } from "../util/pool.js";
import { describeKubeError, type KubeClient } from "./client.js";
import type { Plan } from "./plan.js";

interface Check {
  verb: "create" | "patch" | "delete";
  group: string;
  resource: string;
  namespace?: string;
  /** The first object that needs it, for the message. */
  id: ObjectId;
  file?: string;
}

const apiVersionOf = (id: ObjectId): string => (id.group ? `${id.group}/${id.version}` : id.version);

/** How long an allowed access review is reused for the same identity and attributes. */
export const ACCESS_REVIEW_TTL_MS = 30_000;

/** What one SelfSubjectAccessReview asks. */
export interface ResourceAttributes {
  verb: string;
  group: string;
  resource: string;
  namespace?: string;
}

/**
 * Allowed access reviews, per identity (the impersonated user, or "" for the agent itself) and
 * attributes, for `ttlMs` (see the header for why that is safe). One per agent: Environments that write
 * as the same identity share its answers. Bounded: the oldest entries go first.
 */
export class AccessReviews {
  private readonly allowedUntil = new Map<string, number>();

  constructor(private readonly ttlMs = ACCESS_REVIEW_TTL_MS, private readonly now: () => number = () => performance.now(), private readonly maxEntries = 10_000) {}

  /** Whether `identity` may do it: an allow remembered within the TTL, or else `ask`'s answer (remembered only when it allows). */
  async allowed(identity: string, attributes: ResourceAttributes, ask: () => Promise<boolean>): Promise<boolean> {
    const key = JSON.stringify([identity, attributes.verb, attributes.group, attributes.resource, attributes.namespace ?? ""]);
    const until = this.allowedUntil.get(key);
    if (until !== undefined && this.now() < until) return true;
    this.allowedUntil.delete(key);
    // The TTL counts from when the question was asked, not from when the answer came.
    const askedAt = this.now();
    if (!(await ask())) return false;
    if (this.allowedUntil.size >= this.maxEntries) this.allowedUntil.delete(this.allowedUntil.keys().next().value ?? "");
    this.allowedUntil.set(key, askedAt + this.ttlMs);
    return true;
  }
}

/** `reviews`: allowed answers to reuse (the agent's); without it every check is asked. */
export async function accessProblems(client: KubeClient, plan: Plan, concurrency: number, reviews: AccessReviews = new AccessReviews(0)): Promise<BatonError[]> {
  const checks = new Map<string, Check>();
  const add = async (verb: Check["verb"], id: ObjectId, file?: string) => {
    let resource: string;
    try {
      resource = (await client.resourceFor(apiVersionOf(id), id.kind)).plural;
    } catch {
      return; // a kind the cluster does not serve (yet): the apply or prune reports it
    }
    const key = `${verb}|${id.group}|${resource}|${id.namespace ?? ""}`;
    if (!checks.has(key)) checks.set(key, { verb, group: id.group, resource, ...(id.namespace ? { namespace: id.namespace } : {}), id, ...(file ? { file } : {}) });
  };
  for (const o of plan.objects) {
    if (o.action === "unchanged") continue;
    // Server-side apply is a PATCH; on an object that does not exist yet it needs create as well.
    await add("patch", o.desired.id, o.desired.source.file);
    if (!o.live) await add("create", o.desired.id, o.desired.source.file);
  }
  for (const id of plan.prune) await add("delete", id);
  const identity = client.impersonatedUser ?? "";
  const denied = await mapLimit([...checks.values()], concurrency, async (c) => {
    const attributes = { verb: c.verb, group: c.group, resource: c.resource, ...(c.namespace ? { namespace: c.namespace } : {}) };
    const allowed = await reviews.allowed(identity, attributes, async () => {
      try {
        const review = await client.request<{ status?: { allowed?: boolean; reason?: string } }>("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", {
          apiVersion: "authorization.k8s.io/v1", kind: "SelfSubjectAccessReview", spec: { resourceAttributes: attributes },
        });
        return review.status?.allowed === true;
      } catch (e) {
        throw describeKubeError(e);
      }
    });
    return allowed ? undefined : c;
  });
  const who = client.describeIdentity();
  return denied.filter((c): c is Check => c !== undefined).map((c) => {
    const object = formatId(c.id);
    const what = `${c.verb} ${c.group ? `${c.resource}.${c.group}` : c.resource}${c.namespace ? ` in namespace ${c.namespace}` : " (cluster-scoped)"}`;
    return new BatonError("KUBE_FORBIDDEN", `forbidden: ${who} may not ${what}, needed for ${object}; nothing was applied`, {
      ...(c.file ? { file: c.file } : {}), object,
      hint: client.impersonatedUser
        ? `grant ${who} that permission (a Role and RoleBinding in its namespace), or remove the object from git`
        : "grant the agent that permission (the chart's rbac values), or remove the object from git",
    });
  });
}
