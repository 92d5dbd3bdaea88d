/** Where the CLI and the agent find the cluster: an explicit file, else KUBECONFIG, ~/.kube/config, or in-cluster. */
import { KubeConfig } from "@kubernetes/client-node";

export function loadKubeConfig(file?: string): KubeConfig {
  const kc = new KubeConfig();
  if (file) kc.loadFromFile(file);
  else kc.loadFromDefault(); // KUBECONFIG, ~/.kube/config, or the in-cluster service account
  return kc;
}
