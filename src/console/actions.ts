/**
 * The console's buttons: promote, roll back, confirm, abort. Each calls the function its CLI command calls
 * (`baton promote`, `baton rollback --to`, `baton confirm`, `baton abort`) on the person's clone with their
 * GitHub token, so it opens exactly the PR the CLI would — or, with `push` where the environment allows
 * direct pushes, makes the same commit. The console never changes the cluster: every action is a change in
 * git, applied by the agent like any other (the one rule).
 */
import { z } from "zod";
import { BatonError } from "../errors.js";
import type { GitHubApi } from "../github/api.js";
import { promote } from "../promote/promote.js";
import { changeRelease } from "../promote/release.js";
import { rollback } from "../promote/rollback.js";

const envName = z.string().min(1).max(63).regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, "must be an environment name from baton.yaml");

export const ActionSchema = z.discriminatedUnion("action", [
  z.object({ action: z.literal("promote"), from: envName, to: envName }),
  z.object({ action: z.literal("rollback"), env: envName, to: z.string().regex(/^[0-9a-f]{7,40}$/, "must be a commit id from the environment's history"), push: z.boolean().default(false) }),
  z.object({ action: z.literal("confirm"), env: envName, all: z.boolean().default(false), push: z.boolean().default(false) }),
  z.object({ action: z.literal("abort"), env: envName, push: z.boolean().default(false) }),
]);
export type ActionRequest = z.infer<typeof ActionSchema>;

export interface ActionResult {
  /** What happened: a PR opened or updated, a commit pushed, or nothing to do. */
  outcome: "opened" | "updated" | "pushed" | "noop";
  title: string;
  pull?: { number: number; url: string };
  commit?: string;
  /** The CLI command that does the same, shown beside the result. */
  command: string;
}

/** zod at the boundary: the first problem as one USAGE error naming the field. */
export function parseAction(body: unknown): ActionRequest {
  const parsed = ActionSchema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new BatonError("USAGE", `console action: ${issue?.path.join(".") || "body"} ${issue?.message ?? "is invalid"}`, {
    ...(issue?.path.length ? { field: issue.path.join(".") } : {}), hint: "send { action: promote|rollback|confirm|abort, … } as the console page does",
  });
}

export function actionCommand(req: ActionRequest): string {
  const push = "push" in req && req.push ? " --push" : "";
  switch (req.action) {
    case "promote": return `baton promote ${req.from} ${req.to}`;
    case "rollback": return `baton rollback ${req.env} --to ${req.to}${push}`;
    case "confirm": return `baton confirm ${req.env}${req.all ? " --all" : ""}${push}`;
    case "abort": return `baton abort ${req.env}${push}`;
  }
}

export async function runAction(req: ActionRequest, deps: { repo: string; github?: (remoteUrl: string | undefined) => GitHubApi; progress?: (message: string) => void }): Promise<ActionResult> {
  const common = { repo: deps.repo, ...(deps.github ? { github: deps.github } : {}), ...(deps.progress ? { progress: deps.progress } : {}) };
  const command = actionCommand(req);
  const done = (r: { action: "noop" | "dry-run" | "opened" | "updated" | "pushed"; title: string; pull?: { number: number; url: string } | undefined; commit?: string | undefined }): ActionResult => {
    // Never a dry run: without GitHub the functions throw GITHUB_TOKEN_MISSING (the page shows it and the command).
    if (r.action === "dry-run") throw new BatonError("GITHUB_TOKEN_MISSING", `${command} needs GitHub to open its pull request`, { hint: "start baton console with GITHUB_TOKEN set, or run the command yourself" });
    return { outcome: r.action, title: r.title, command, ...(r.pull ? { pull: { number: r.pull.number, url: r.pull.url } } : {}), ...(r.commit ? { commit: r.commit } : {}) };
  };
  switch (req.action) {
    case "promote": return done(await promote({ ...common, from: req.from, to: req.to }));
    case "rollback": return done(await rollback({ ...common, env: req.env, to: req.to, push: req.push }));
    case "confirm": return done(await changeRelease({ ...common, env: req.env, action: "confirm", all: req.all, push: req.push }));
    case "abort": return done(await changeRelease({ ...common, env: req.env, action: "abort", push: req.push }));
  }
}
