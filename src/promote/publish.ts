/**
 * Publishing a Baton branch as a pull request: open it, or update the open one with the same head branch
 * (reruns never open a second PR), label it, and close older open PRs it supersedes.
 */
import type { GitHubApi, PullRequest } from "../github/api.js";

export interface PublishInput {
  head: string;
  base: string;
  title: string;
  body: string;
  labels: string[];
  /** Open PRs carrying all these labels, on a different head starting with `supersedesPrefix`, are closed. */
  supersedeLabels?: string[];
  supersedesPrefix?: string;
}

export interface Published {
  action: "opened" | "updated";
  pull: { number: number; url: string };
  superseded: number[];
}

export async function publishPull(github: GitHubApi, input: PublishInput, progress: (msg: string) => void = () => undefined): Promise<Published> {
  const existing = await github.findOpenPull(input.head);
  let pull: PullRequest;
  let action: Published["action"];
  if (existing) {
    progress(`updating pull request #${existing.number}`);
    pull = await github.updatePull(existing.number, { title: input.title, body: input.body });
    action = "updated";
  } else {
    progress(`opening pull request ${input.head} → ${input.base}`);
    pull = await github.openPull({ head: input.head, base: input.base, title: input.title, body: input.body });
    action = "opened";
  }
  const missing = input.labels.filter((l) => !pull.labels.includes(l));
  if (missing.length > 0) await github.addLabels(pull.number, missing);
  const superseded: number[] = [];
  if (input.supersedeLabels && input.supersedesPrefix) {
    const [first, ...rest] = input.supersedeLabels;
    for (const older of await github.listOpenPulls(first)) {
      if (older.number === pull.number || older.head === input.head || !older.head.startsWith(input.supersedesPrefix)) continue;
      if (!rest.every((l) => older.labels.includes(l))) continue;
      progress(`closing #${older.number} (superseded by #${pull.number})`);
      await github.comment(older.number, `Superseded by #${pull.number}`);
      await github.closePull(older.number);
      superseded.push(older.number);
    }
  }
  return { action, pull: { number: pull.number, url: pull.url }, superseded };
}
