/**
 * A real Kubernetes control plane for integration tests, built from the Go module proxy by
 * test/cluster/build.sh: etcd + kube-apiserver + kube-controller-manager + kube-scheduler + kwok
 * (a fake kubelet: Pods on its fake Node become Ready without containers, so Deployments really roll out).
 * Everything listens on 127.0.0.1 with free ports under a temp dir, token auth, RBAC on.
 */
import { execFileSync } from "node:child_process";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { promises as fs } from "node:fs";
import https from "node:https";
import os from "node:os";
import path from "node:path";
import { freePort, startProcess, stopProcess, waitFor, type Managed } from "./processes.js";

export interface Cluster {
  server: string;
  token: string;
  caFile: string;
  kubeconfig: string;
  dir: string;
  processes: Managed[];
  stop(): Promise<void>;
  /**
   * Fault injection: kills one component (`SIGKILL`; etcd gets `SIGTERM` unless the cluster was started
   * with `durableEtcd`, since with --unsafe-no-fsync a kill loses acknowledged writes — a test artifact, not a
   * fault of the system under test), keeps it down for `downMs`, starts it again with the same flags and
   * data, and waits until the API server is ready again.
   */
  restart(name: "etcd" | "kube-apiserver", downMs?: number): Promise<void>;
}

export interface ClusterOptions {
  /** Only etcd and kube-apiserver (no controllers, scheduler or fake node), for tests that run no Pods. */
  controlPlaneOnly?: boolean;
  /** etcd syncs its writes to disk (slower), so `restart("etcd")` can SIGKILL it as a crash would. */
  durableEtcd?: boolean;
}

const repoRoot = path.resolve(import.meta.dirname, "../..");

/** Builds (or reuses) the test binaries and returns their directory. Progress goes to stderr. */
export function ensureBinaries(): string {
  const out = execFileSync("bash", [path.join(repoRoot, "test/cluster/build.sh")], { stdio: ["ignore", "pipe", "inherit"], encoding: "utf8" });
  const lines = out.trim().split("\n");
  return lines[lines.length - 1] ?? "";
}

function get(url: string, token: string, ca: Buffer): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get(url, { headers: { Authorization: `Bearer ${token}` }, ca, timeout: 3000 }, (res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.on("timeout", () => req.destroy(new Error("timeout")));
  });
}

/** etcd or kube-apiserver exited while starting: most likely another process took its port first. */
class ExitedWhileStarting extends Error {}

/** Rejects when `p` exits; handled, so a later exit (teardown) is no unhandled rejection. */
function exitOf(p: Managed): Promise<never> {
  const exited = new Promise<never>((_resolve, reject) => {
    const fail = () => reject(new ExitedWhileStarting(`${p.name} exited while starting (log: ${p.logFile})`));
    if (p.child.exitCode !== null || p.child.signalCode !== null) fail();
    else p.child.once("exit", fail);
  });
  exited.catch(() => undefined);
  return exited;
}

/**
 * Free ports are picked before the processes bind them, so a test server starting beside can take one in
 * between (seen once in CI: the readiness probe met a plain-HTTP server on the API server's port). A start
 * whose etcd or API server exits is retried on fresh ports, twice at most.
 */
export async function startCluster(bin: string, options: ClusterOptions = {}): Promise<Cluster> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startClusterOnce(bin, options);
    } catch (e) {
      if (!(e instanceof ExitedWhileStarting) || attempt >= 3) throw e;
      process.stderr.write(`[cluster] ${e.message}; starting again on other ports\n`);
    }
  }
}

async function startClusterOnce(bin: string, options: ClusterOptions): Promise<Cluster> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "baton-cluster-"));
  const processes: Managed[] = [];
  const specs = new Map<string, { command: string; args: string[]; logFile: string }>();
  const launch = (name: string, command: string, args: string[], logFile: string): Managed => {
    specs.set(name, { command, args, logFile });
    return startProcess(name, command, args, logFile);
  };
  const stop = async () => {
    for (const p of [...processes].reverse()) await stopProcess(p);
    await fs.rm(dir, { recursive: true, force: true });
  };
  try {
    const token = randomBytes(24).toString("hex");
    await fs.writeFile(path.join(dir, "tokens.csv"), `${token},admin,admin,"system:masters"\n`);
    const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048, publicKeyEncoding: { type: "spki", format: "pem" }, privateKeyEncoding: { type: "pkcs8", format: "pem" } });
    await fs.writeFile(path.join(dir, "sa.pub"), publicKey);
    await fs.writeFile(path.join(dir, "sa.key"), privateKey);

    const [etcdClient, etcdPeer, apiPort] = [await freePort(), await freePort(), await freePort()];
    processes.push(launch("etcd", path.join(bin, "etcd"), [
      "--name=default", `--data-dir=${dir}/etcd`,
      `--listen-client-urls=http://127.0.0.1:${etcdClient}`, `--advertise-client-urls=http://127.0.0.1:${etcdClient}`,
      `--listen-peer-urls=http://127.0.0.1:${etcdPeer}`, `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeer}`,
      `--initial-cluster=default=http://127.0.0.1:${etcdPeer}`, ...(options.durableEtcd ? [] : ["--unsafe-no-fsync"]), "--log-level=warn",
    ], path.join(dir, "etcd.log")));

    const certDir = path.join(dir, "certs");
    processes.push(launch("kube-apiserver", path.join(bin, "kube-apiserver"), [
      `--etcd-servers=http://127.0.0.1:${etcdClient}`, `--cert-dir=${certDir}`, "--bind-address=127.0.0.1", `--advertise-address=127.0.0.1`,
      `--secure-port=${apiPort}`, "--service-cluster-ip-range=10.96.0.0/16", "--service-account-issuer=https://kubernetes.default.svc",
      `--service-account-key-file=${dir}/sa.pub`, `--service-account-signing-key-file=${dir}/sa.key`, "--authorization-mode=RBAC",
      `--token-auth-file=${dir}/tokens.csv`, "--allow-privileged=true", "--endpoint-reconciler-type=none", "--enable-priority-and-fairness=false",
      "--v=0",
    ], path.join(dir, "kube-apiserver.log")));

    const server = `https://127.0.0.1:${apiPort}`;
    const caFile = path.join(certDir, "apiserver.crt");
    const exited = Promise.race(processes.map(exitOf));
    exited.catch(() => undefined);
    await Promise.race([exited, waitFor("kube-apiserver serving certificate", async () => (await fs.stat(caFile).catch(() => undefined)) ? true : undefined, 60_000)]);
    const ca = await fs.readFile(caFile);
    await Promise.race([exited, waitFor("kube-apiserver /readyz", async () => ((await get(`${server}/readyz`, token, ca)).status === 200 ? true : undefined), 90_000, 250)]);

    const kubeconfig = path.join(dir, "kubeconfig");
    await fs.writeFile(kubeconfig, [
      "apiVersion: v1", "kind: Config", "current-context: test",
      "clusters:", "- name: test", "  cluster:", `    server: ${server}`, `    certificate-authority: ${caFile}`,
      "users:", "- name: admin", "  user:", `    token: ${token}`,
      "contexts:", "- name: test", "  context:", "    cluster: test", "    user: admin",
    ].join("\n") + "\n");

    const restart = async (name: "etcd" | "kube-apiserver", downMs = 1000): Promise<void> => {
      const i = processes.findIndex((p) => p.name === name);
      const old = processes[i];
      const spec = specs.get(name);
      if (!old || !spec) throw new Error(`no ${name} in this cluster`);
      const exited = new Promise<void>((resolve) => (old.child.exitCode !== null || old.child.signalCode !== null ? resolve() : old.child.once("exit", () => resolve())));
      old.child.kill(name === "etcd" && !options.durableEtcd ? "SIGTERM" : "SIGKILL");
      await exited;
      await new Promise((r) => setTimeout(r, downMs));
      processes[i] = startProcess(name, spec.command, spec.args, spec.logFile);
      await waitFor(`kube-apiserver /readyz after restarting ${name}`, async () => ((await get(`${server}/readyz`, token, ca)).status === 200 ? true : undefined), 90_000, 250);
    };
    if (options.controlPlaneOnly) return { server, token, caFile, kubeconfig, dir, processes, stop, restart };

    processes.push(launch("kube-controller-manager", path.join(bin, "kube-controller-manager"), [
      `--kubeconfig=${kubeconfig}`, "--leader-elect=false", "--controllers=*", `--service-account-private-key-file=${dir}/sa.key`,
      `--root-ca-file=${caFile}`, "--secure-port=0", "--use-service-account-credentials=false", "--concurrent-deployment-syncs=10",
    ], path.join(dir, "kube-controller-manager.log")));
    processes.push(launch("kube-scheduler", path.join(bin, "kube-scheduler"), [
      `--kubeconfig=${kubeconfig}`, "--leader-elect=false", "--secure-port=0",
    ], path.join(dir, "kube-scheduler.log")));
    const stages = path.join(bin, "kwok-stages");
    processes.push(launch("kwok", path.join(bin, "kwok"), [
      `--kubeconfig=${kubeconfig}`, "--manage-all-nodes=false", "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
      // kwok renews the fake Node's Lease; without it the node lifecycle controller marks the Node NotReady
      // every ~50 s and Deployments briefly lose their available replicas.
      "--cidr=10.0.0.1/24", "--node-ip=10.0.0.1", "--node-lease-duration-seconds=40", `--server-address=127.0.0.1:${await freePort()}`,
      `--config=${stages}/node/fast/node-initialize.yaml`, `--config=${stages}/node/heartbeat-with-lease/node-heartbeat-with-lease.yaml`,
      `--config=${stages}/pod/fast/pod-ready.yaml`, `--config=${stages}/pod/fast/pod-complete.yaml`, `--config=${stages}/pod/fast/pod-delete.yaml`,
      // Pods of one image digest crash-loop (the auto-abort test); every other Pod becomes Ready as usual.
      `--config=${path.join(repoRoot, "test/cluster/kwok/pod-crash-loop.yaml")}`,
    ], path.join(dir, "kwok.log")));
    return { server, token, caFile, kubeconfig, dir, processes, stop, restart };
  } catch (e) {
    await stop();
    throw e;
  }
}
