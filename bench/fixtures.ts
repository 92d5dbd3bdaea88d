/** Generated config folders for the benchmarks: N objects of a realistic mix, one file per app. */
import { promises as fs } from "node:fs";
import path from "node:path";

const digest = (i: number) => `sha256:${(i.toString(16).padStart(8, "0")).repeat(8)}`;

/** Writes `apps` apps × 4 objects (Deployment, Service, ConfigMap, ServiceAccount) under `dir`. */
export async function writeApps(dir: string, apps: number, namespace?: string): Promise<number> {
  const ns = namespace ? `\n  namespace: ${namespace}` : "";
  await fs.mkdir(dir, { recursive: true });
  for (let i = 0; i < apps; i++) {
    const name = `app-${String(i).padStart(4, "0")}`;
    const text = `# ${name}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}${ns}
  labels: {app: ${name}}
spec:
  replicas: 0
  selector:
    matchLabels: {app: ${name}}
  template:
    metadata:
      labels: {app: ${name}}
    spec:
      serviceAccountName: ${name}
      containers:
        - name: main
          image: ghcr.io/acme/${name}@${digest(i)}
          envFrom:
            - configMapRef: {name: ${name}}
          resources:
            requests: {cpu: 10m, memory: 16Mi}
---
apiVersion: v1
kind: Service
metadata:
  name: ${name}${ns}
spec:
  selector: {app: ${name}}
  ports:
    - port: 80
      targetPort: 8080
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: ${name}${ns}
data:
  LOG_LEVEL: info
  FEATURE_FLAGS: "a,b,c"
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: ${name}${ns}
`;
    await fs.writeFile(path.join(dir, `${name}.yaml`), text);
  }
  return apps * 4;
}
