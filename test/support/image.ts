/**
 * Baton's container image in tests: built (or reused) by test/image/build.sh before the integration tests,
 * and run with podman the way a kubelet runs the Helm chart's pod: the pod spec's user, read-only root
 * filesystem, dropped capabilities, emptyDir volumes (as tmpfs), and a service account volume.
 */
import { execFile, spawn } from "node:child_process";
import { promises as fs } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";

const repoRoot = path.resolve(import.meta.dirname, "../..");
/** podman's settings for this machine (runc, cgroupfs, no default ulimits); the system config stays untouched. */
export const podmanEnv = { ...process.env, CONTAINERS_CONF: path.join(repoRoot, "test/image/containers.conf") };

/** What test/run.ts's build left in the result file: the image reference, or why it could not be built. */
type ImageResult = { image: string } | { error: string };

/**
 * Builds or reuses the image in the background and writes the outcome to `resultFile` when done. Progress
 * goes to stderr. The build (npm, tsc, layer commits) overlaps the integration tests that run before the
 * image test, which mostly wait on the control plane.
 */
export function buildImageInBackground(resultFile: string): Promise<void> {
  return new Promise((resolve) => {
    const child = spawn("bash", [path.join(repoRoot, "test/image/build.sh")], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    const settle = (result: ImageResult) => void fs.writeFile(resultFile, JSON.stringify(result)).then(() => resolve());
    child.on("error", (e) => settle({ error: e.message }));
    child.on("exit", (code) => settle(code === 0 ? { image: out.trim().split("\n").pop() ?? "" } : { error: `test/image/build.sh exited with ${code}` }));
  });
}

/** Inside an integration test: waits for the image test/run.ts builds, or throws the reason it could not. */
export async function testImage(): Promise<string> {
  const file = process.env.BATON_TEST_IMAGE_RESULT;
  if (!file) throw new Error("BATON_TEST_IMAGE_RESULT is not set; run integration tests through `npm test` (test/run.ts)");
  for (;;) {
    const text = await fs.readFile(file, "utf8").catch(() => undefined);
    if (text) {
      const result = JSON.parse(text) as ImageResult;
      if ("image" in result) return result.image;
      throw new Error(`the Baton image was not built: ${result.error}`);
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

export async function podman(...args: string[]): Promise<string> {
  return (await promisify(execFile)("podman", args, { env: podmanEnv, maxBuffer: 32 << 20, encoding: "utf8" })).stdout;
}

/** The parts of a pod spec this translation understands; anything else in the pod fails the test loudly. */
export interface PodSpec {
  securityContext?: { runAsUser?: number; runAsGroup?: number; runAsNonRoot?: boolean };
  containers: Array<{
    name: string;
    args?: string[];
    securityContext?: { readOnlyRootFilesystem?: boolean; allowPrivilegeEscalation?: boolean; capabilities?: { drop?: string[]; add?: string[] } };
    volumeMounts?: Array<{ name: string; mountPath: string }>;
  }>;
  volumes?: Array<{ name: string; emptyDir?: { sizeLimit?: string } }>;
}

export interface PodRun {
  /** podman flags before the image reference. */
  flags: string[];
  /** the container's args (after the image). */
  args: string[];
}

/** Kubernetes quantities as tmpfs sizes ("1Gi" → "1g"); tmpfs takes k/m/g suffixes. */
function tmpfsSize(quantity: string | undefined): string {
  const m = /^(\d+)(Ki|Mi|Gi)?$/.exec(quantity ?? "64Mi");
  if (!m) throw new Error(`emptyDir sizeLimit ${quantity} is not a size this test translates`);
  return `${m[1]}${{ Ki: "k", Mi: "m", Gi: "g" }[m[2] as "Ki" | "Mi" | "Gi"] ?? ""}`;
}

/**
 * podman flags that give a container what the kubelet gives the pod's `container`: its user, read-only root,
 * capabilities, no privilege escalation, emptyDirs as tmpfs (world-writable like emptyDir) and the extra
 * mounts and env (a pod's service account volume and downward-API variables) the caller supplies.
 */
export function podmanRunFor(pod: PodSpec, container: string, extra: { env: Record<string, string>; mounts: string[] }): PodRun {
  const c = pod.containers.find((x) => x.name === container);
  if (!c) throw new Error(`no container ${container} in the pod spec`);
  const flags = ["--network", "host", "--pull", "never"];
  const user = pod.securityContext?.runAsUser;
  if (user === undefined) throw new Error("the pod spec sets no runAsUser");
  flags.push("--user", `${user}:${pod.securityContext?.runAsGroup ?? user}`);
  if (c.securityContext?.readOnlyRootFilesystem) flags.push("--read-only", "--read-only-tmpfs=false");
  if (c.securityContext?.allowPrivilegeEscalation === false) flags.push("--security-opt", "no-new-privileges");
  for (const cap of c.securityContext?.capabilities?.drop ?? []) flags.push("--cap-drop", cap);
  for (const cap of c.securityContext?.capabilities?.add ?? []) flags.push("--cap-add", cap);
  for (const mount of c.volumeMounts ?? []) {
    const volume = pod.volumes?.find((v) => v.name === mount.name);
    if (!volume?.emptyDir) throw new Error(`volume ${mount.name} is not an emptyDir; this test only translates emptyDir volumes`);
    flags.push("--tmpfs", `${mount.mountPath}:rw,mode=1777,size=${tmpfsSize(volume.emptyDir.sizeLimit)}`);
  }
  for (const m of extra.mounts) flags.push("--volume", m);
  for (const [k, v] of Object.entries(extra.env)) flags.push("--env", `${k}=${v}`);
  return { flags, args: c.args ?? [] };
}
