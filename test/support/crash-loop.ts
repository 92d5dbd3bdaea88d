/** Pods running this image crash-loop on the test cluster (kwok Stage test/cluster/kwok/pod-crash-loop.yaml). */
export const CRASH_LOOP_IMAGE = `ghcr.io/acme/web@sha256:${"dead".repeat(16)}`;
