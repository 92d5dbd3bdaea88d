/**
 * Permission preflight: before a reconcile writes anything, ask the API server whether the identity
 * (the agent, or the ServiceAccount it impersonates) may make every write and delete of the plan, with
 * one SelfSubjectAccessReview per (verb, resource, namespace). A refusal is then a clear error naming
 * the object, with nothing applied — cheaper and more complete than a dry-run of every create (creates
 * are not dry-run; a 403 in the middle of a stage would leave half of it applied), and it covers
 * deletes, which have no dry-run in the apply path. An idle reconcile (nothing to write) asks nothing.
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

export async function accessProblems(client: KubeClient, plan: Plan, concurrency: number): Promise<BatonError[]> {
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
  const denied = await mapLimit([...checks.values()], concurrency, async (c) => {
    try {
      const review = await client.request<{ status?: { allowed?: boolean; reason?: string } }>("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", {
        apiVersion: "authorization.k8s.io/v1", kind: "SelfSubjectAccessReview",
        spec: { resourceAttributes: { verb: c.verb, group: c.group, resource: c.resource, ...(c.namespace ? { namespace: c.namespace } : {}) } },
      });
      return review.status?.allowed ? undefined : c;
    } catch (e) {
      throw describeKubeError(e);
    }
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
