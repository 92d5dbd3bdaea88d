import { current, inProgress, type Health, type LiveObject } from "./types.js";

const addresses = (obj: LiveObject): unknown[] => {
  const lb = obj.status?.loadBalancer as { ingress?: unknown[] } | undefined;
  return lb?.ingress ?? [];
};

/** A LoadBalancer Service is Current once the cloud gave it an address; other Services once they exist. */
export function serviceHealth(obj: LiveObject): Health {
  if (obj.spec?.type !== "LoadBalancer") return current("exists");
  return addresses(obj).length > 0 ? current("load balancer address assigned") : inProgress("waiting for a load balancer address");
}

/** An Ingress is Current once its controller published an address. */
export function ingressHealth(obj: LiveObject): Health {
  return addresses(obj).length > 0 ? current("address assigned") : inProgress("waiting for the ingress controller to assign an address");
}
