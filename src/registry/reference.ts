/**
 * Where an image repository lives on the wire: the registry's API host and the repository name inside it.
 * Docker Hub's implicit parts are made explicit the way container runtimes resolve them.
 */
import { canonicalRepository } from "../config/image-ref.js";

export interface RegistryCoordinates {
  /** `host[:port]` of the distribution API, e.g. `ghcr.io`, `registry-1.docker.io`, `127.0.0.1:5000`. */
  host: string;
  /** The repository name inside the registry, e.g. `acme/web`, `library/nginx`. */
  name: string;
  /** The host as docker config files key it (`docker.io`'s credentials are filed under index.docker.io). */
  credentialKeys: string[];
}

const LOOPBACK = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\])(?::\d+)?$/;

export function coordinates(repository: string): RegistryCoordinates {
  const canonical = canonicalRepository(repository);
  const slash = canonical.indexOf("/");
  const registry = canonical.slice(0, slash);
  const name = canonical.slice(slash + 1);
  if (registry === "docker.io") {
    return { host: "registry-1.docker.io", name, credentialKeys: ["https://index.docker.io/v1/", "index.docker.io", "docker.io", "registry-1.docker.io"] };
  }
  return { host: registry, name, credentialKeys: [registry] };
}

/**
 * Registries are spoken to over https, except on loopback (a registry on the same machine, as in a CI job
 * or a kind/k3d cluster's local registry), where plain http is what they serve — Docker makes the same exception.
 */
export function isLoopback(host: string): boolean {
  return LOOPBACK.test(host);
}

export function baseUrl(host: string): string {
  return `${isLoopback(host) ? "http" : "https"}://${host}`;
}
