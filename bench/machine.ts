/** The machine a benchmark ran on, printed with its figures (timings only mean something next to it). */
import os from "node:os";

export function machineLine(): string {
  const cpus = os.cpus();
  const load = os.loadavg().map((l) => l.toFixed(1)).join(" ");
  return `machine: ${cpus.length} × ${cpus[0]?.model ?? "cpu"}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}; load average at the end ${load}`;
}
