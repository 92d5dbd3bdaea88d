/**
 * Registry credentials and the challenges registries answer with. Credentials come from a docker config
 * file (`~/.docker/config.json`, or a `kubernetes.io/dockerconfigjson` Secret mounted into the agent);
 * baton.yaml never names them, because it comes from the repo and must not choose which secret Baton sends where.
 */
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { z } from "zod";
import { BatonError } from "../errors.js";
import { registerSecret } from "../util/secrets.js";

export type Credential = { kind: "basic"; username: string; password: string } | { kind: "identityToken"; token: string };

export interface Challenge {
  scheme: "bearer" | "basic";
  realm?: string;
  service?: string;
  scope?: string;
}

/** Parses `Bearer realm="https://…",service="…",scope="…"` (or `Basic realm="…"`); undefined for other schemes. */
export function parseChallenge(header: string | null): Challenge | undefined {
  if (!header) return undefined;
  const m = /^\s*(\w+)\s*(.*)$/.exec(header);
  const scheme = m?.[1]?.toLowerCase();
  if (scheme !== "bearer" && scheme !== "basic") return undefined;
  const challenge: Challenge = { scheme };
  for (const p of (m?.[2] ?? "").matchAll(/(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))/g)) {
    const key = p[1]?.toLowerCase();
    const value = (p[2] ?? p[3] ?? "").replace(/\\(.)/g, "$1");
    if (key === "realm" || key === "service" || key === "scope") challenge[key] = value;
  }
  return challenge;
}

const AuthEntry = z.object({
  auth: z.string().optional(),
  username: z.string().optional(),
  password: z.string().optional(),
  identitytoken: z.string().optional(),
}).passthrough();

const DockerConfig = z.object({ auths: z.record(AuthEntry).default({}) }).passthrough();

/** The host a docker config `auths` key names: `https://index.docker.io/v1/` → `index.docker.io`. */
function keyHost(key: string): string {
  return key.replace(/^[a-z]+:\/\//i, "").replace(/\/.*$/, "").toLowerCase();
}

/**
 * The credential for a registry from a docker config file's text. `source` names the file for errors;
 * credential helpers (`credsStore`, `credHelpers`) are not run: Baton does not execute programs a config names.
 */
export function credentialFromDockerConfig(text: string, hostKeys: string[], source: string): Credential | undefined {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new BatonError("REGISTRY_CREDENTIALS", "the docker config is not JSON", { file: source, hint: "give a docker config.json ({\"auths\": {\"ghcr.io\": {\"auth\": \"<base64 user:password>\"}}})" });
  }
  const parsed = DockerConfig.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new BatonError("REGISTRY_CREDENTIALS", `the docker config's ${issue?.path.join(".") || "document"} ${issue?.message ?? "is invalid"}`, { file: source, field: issue?.path.join("."), hint: "auths maps a registry host to {auth} or {username, password}" });
  }
  const wanted = new Set(hostKeys.map(keyHost));
  for (const [key, entry] of Object.entries(parsed.data.auths)) {
    if (!wanted.has(keyHost(key))) continue;
    if (entry.identitytoken) {
      registerSecret(entry.identitytoken);
      return { kind: "identityToken", token: entry.identitytoken };
    }
    let username = entry.username;
    let password = entry.password;
    if (entry.auth) {
      const decoded = Buffer.from(entry.auth, "base64").toString("utf8");
      const colon = decoded.indexOf(":");
      if (colon <= 0) throw new BatonError("REGISTRY_CREDENTIALS", `auths["${key}"].auth is not base64 of user:password`, { file: source, field: `auths.${key}.auth`, hint: "echo -n user:password | base64" });
      username = decoded.slice(0, colon);
      password = decoded.slice(colon + 1);
    }
    if (username === undefined || password === undefined) {
      throw new BatonError("REGISTRY_CREDENTIALS", `auths["${key}"] has neither auth nor username and password`, { file: source, field: `auths.${key}`, hint: "docker login writes auth; credential helpers are not supported" });
    }
    registerSecret(password);
    registerSecret(entry.auth);
    return { kind: "basic", username, password };
  }
  return undefined;
}

export function basicHeader(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`;
}

const TokenResponse = z.object({ token: z.string().optional(), access_token: z.string().optional() }).passthrough();

/** The bearer token from a token endpoint's JSON (`token`, or OAuth2's `access_token`). */
export function tokenFromResponse(json: unknown): string | undefined {
  const parsed = TokenResponse.safeParse(json);
  if (!parsed.success) return undefined;
  return parsed.data.token ?? parsed.data.access_token;
}

/** The docker config file Docker itself would read: $DOCKER_CONFIG/config.json, else ~/.docker/config.json. */
export function defaultDockerConfigPath(): string {
  return path.join(process.env.DOCKER_CONFIG ?? path.join(os.homedir(), ".docker"), "config.json");
}

/**
 * Credentials by registry from a docker config file, read once. A missing file means anonymous access
 * only when `optional` (the default path); a file that was named explicitly must exist.
 */
export async function dockerConfigCredentials(file: string, optional: boolean): Promise<(at: { credentialKeys: string[] }) => Credential | undefined> {
  let text: string;
  try {
    const stat = await fs.stat(file);
    if (stat.size > 1024 * 1024) throw new BatonError("REGISTRY_CREDENTIALS", "the docker config is larger than 1 MiB", { file });
    text = await fs.readFile(file, "utf8");
  } catch (e) {
    if (e instanceof BatonError) throw e;
    if (optional && (e as { code?: string }).code === "ENOENT") return () => undefined;
    throw new BatonError("REGISTRY_CREDENTIALS", `cannot read the docker config (${(e as { code?: string }).code ?? "error"})`, { file, hint: "pass a readable docker config.json" });
  }
  credentialFromDockerConfig(text, [], file); // validate the whole file now, not at the first registry call
  return (at) => credentialFromDockerConfig(text, at.credentialKeys, file);
}
