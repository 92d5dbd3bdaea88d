/**
 * Control-plane runs on one machine take turns (integration tests, benchmarks): two control planes on 2 cores
 * starve each other's fake kubelet until rollouts look like failures. `flock` holds the lock while its `cat`
 * reads our stdin, so the lock goes when this process exits, however it exits. Without `flock` (not Linux)
 * runs are not serialised.
 */
import { spawn } from "node:child_process";

export async function machineLock(file = process.env.BATON_LOCK_FILE ?? "/tmp/baton-integration.lock"): Promise<() => void> {
  const child = spawn("flock", [file, "sh", "-c", "echo locked; exec cat"], { stdio: ["pipe", "pipe", "ignore"] });
  const locked = await new Promise<boolean>((resolve) => {
    child.on("error", () => resolve(false));
    child.stdout.once("data", () => resolve(true));
    child.on("exit", () => resolve(false));
  });
  if (!locked) process.stderr.write("[test] flock unavailable: control-plane runs on this machine are not serialised\n");
  return () => { child.stdin.end(); };
}
