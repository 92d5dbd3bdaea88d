/**
 * Runs a rendering tool (kustomize, helm) as a child process with a bounded output, a timeout and only
 * the environment it is given: the agent's variables (tokens, notification URLs) never reach it.
 */
import { spawn } from "node:child_process";
import { constants, promises as fs } from "node:fs";
import path from "node:path";
import { BatonError, type ErrorCode } from "../errors.js";
import type { Limits } from "./limits.js";

export interface OfflineRun {
  bin: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  /** Repo-relative folder named in errors. */
  relDir: string;
  /** `kustomize build`, `helm template`: names the step in messages. */
  step: string;
  codes: { failed: ErrorCode; timeout: ErrorCode };
  /** What to run locally to see the whole error. */
  hint: string;
}

/** The tool's stdout, cut off at the render byte limit and the timeout; a non-zero exit shows stderr's tail. */
export function runOffline(run: OfflineRun, limits: Limits): Promise<string> {
  const { relDir, hint } = run;
  return new Promise((resolve, reject) => {
    const child = spawn(run.bin, run.args, { env: run.env, stdio: ["ignore", "pipe", "pipe"] });
    const out: Buffer[] = [];
    let outBytes = 0;
    let stderr = "";
    let failure: BatonError | undefined;
    const stop = (error: BatonError) => {
      failure ??= error;
      child.kill("SIGKILL");
    };
    const timer = setTimeout(() => stop(new BatonError(run.codes.timeout, `${run.step} did not finish within ${Math.round(limits.kustomizeTimeoutMs / 1000)} s`, {
      file: relDir, hint: `a build this slow usually means a very large or deeply generated tree; simplify it, and check it locally with \`time ${run.step} …\``,
    })), limits.kustomizeTimeoutMs);
    child.stdout.on("data", (chunk: Buffer) => {
      outBytes += chunk.length;
      if (outBytes > limits.maxRenderBytes) {
        stop(new BatonError("FILE_TOO_LARGE", `${run.step} output exceeds the ${limits.maxRenderBytes}-byte limit for one environment`, {
          file: relDir, hint: "an environment renders at most this much YAML; split it into several environments",
        }));
        return;
      }
      if (!failure) out.push(chunk);
    });
    // Only the tail of stderr is shown; keep it bounded too.
    child.stderr.on("data", (chunk: Buffer) => { stderr = (stderr + chunk.toString("utf8")).slice(-4000); });
    child.on("error", (e) => stop(new BatonError(run.codes.failed, `could not run ${run.bin}: ${e.message}`, { file: relDir, hint })));
    child.on("close", (code) => {
      clearTimeout(timer);
      if (failure) return reject(failure);
      if (code !== 0) {
        return reject(new BatonError(run.codes.failed, `${run.step} failed: ${stderr.trim().split("\n").slice(-3).join(" ") || `exit code ${code}`}`, { file: relDir, hint }));
      }
      resolve(Buffer.concat(out).toString("utf8"));
    });
  });
}

/** An executable on PATH, as an absolute path. */
export async function onPath(bin: string): Promise<string | undefined> {
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    if (!dir) continue;
    try {
      await fs.access(path.join(dir, bin), constants.X_OK);
      return path.join(dir, bin);
    } catch {
      // keep looking
    }
  }
  return undefined;
}
