/**
 * A config repo for integration tests: a working clone whose commits are pushed to the test git server.
 * All git calls are async (the server runs in the test process).
 */
import { execFile } from "node:child_process";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import type { GitServer } from "./git-server.js";

const exec = promisify(execFile);

export class ConfigRepo {
  private constructor(readonly dir: string, readonly url: string, private readonly pushUrl: string) {}

  static async create(server: GitServer, name: string, files: Record<string, string>): Promise<ConfigRepo> {
    await server.createRepo(name);
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), `baton-${name.replace(/\//g, "-")}-`));
    const repo = new ConfigRepo(dir, server.url(name), server.authUrl(name));
    await repo.git("init", "--quiet", "--initial-branch=main");
    await repo.git("config", "user.email", "dev@example.com");
    await repo.git("config", "user.name", "Dev");
    await repo.git("remote", "add", "origin", repo.pushUrl);
    await repo.commit(files, "initial config");
    return repo;
  }

  async git(...args: string[]): Promise<string> {
    return (await exec("git", ["-C", this.dir, ...args], { encoding: "utf8" })).stdout.trim();
  }

  /** Writes (or with `null`, deletes) files, commits and pushes; returns the new commit. */
  async commit(files: Record<string, string | null>, message: string): Promise<string> {
    for (const [file, text] of Object.entries(files)) {
      const full = path.join(this.dir, file);
      if (text === null) await fs.rm(full, { force: true });
      else {
        await fs.mkdir(path.dirname(full), { recursive: true });
        await fs.writeFile(full, text);
      }
    }
    await this.git("add", "-A");
    await this.git("commit", "--quiet", "-m", message);
    await this.git("push", "--quiet", "origin", "main");
    return this.git("rev-parse", "HEAD");
  }

  async revert(sha: string): Promise<string> {
    await this.git("revert", "--no-edit", sha);
    await this.git("push", "--quiet", "origin", "main");
    return this.git("rev-parse", "HEAD");
  }

  async destroy(): Promise<void> {
    await fs.rm(this.dir, { recursive: true, force: true });
  }
}

export const digest = (seed: string): string => {
  // Deterministic fake digests: 64 hex chars derived from the seed.
  let hex = "";
  for (let i = 0; hex.length < 64; i++) hex += ((seed.charCodeAt(i % seed.length) * 31 + i * 17) % 256).toString(16).padStart(2, "0");
  return `sha256:${hex.slice(0, 64)}`;
};

/** A small web app: Deployment + Service + ConfigMap, image pinned by digest. */
export function webApp(image: string, options: { replicas?: number; config?: Record<string, string> } = {}): Record<string, string> {
  const config = Object.entries(options.config ?? { MODE: "test" }).map(([k, v]) => `  ${k}: "${v}"`).join("\n");
  return {
    "deploy.yaml": `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: ${options.replicas ?? 2}
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: ${image}
`,
    "service.yaml": `apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports:
    - port: 80
      targetPort: 8080
`,
    "config.yaml": `apiVersion: v1
kind: ConfigMap
metadata:
  name: web-config
data:
${config}
`,
  };
}

export function underPath(prefix: string, files: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(files).map(([k, v]) => [`${prefix}/${k}`, v]));
}
