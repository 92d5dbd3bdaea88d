import type { Command } from "commander";
import { proposePipeline } from "../config/init.js";
import { pinCommand, resolveTagged, writeInit } from "../config/init-resolve.js";
import { RegistryClient } from "../registry/client.js";
import { defaultDockerConfigPath, dockerConfigCredentials } from "../registry/auth.js";
import { PIPELINE_FILE } from "../config/pipeline.js";
import { commonOptions, printJson, table } from "./output.js";

export function registerInit(program: Command): void {
  program
    .command("init")
    .description("propose a baton.yaml for an existing config repo: finds environment folders (overlays/, env/, apps/, clusters/, … or Helm values per environment), orders them and lists images still on a tag; writes nothing without --write")
    .option("--repo <dir>", "config repo checkout", ".")
    .option("-o, --output <format>", "text or json", "text")
    .option("--write", "write baton.yaml (and move Helm values into per-environment folders); refuses to overwrite an existing baton.yaml")
    .option("--resolve", "ask each image's registry which digest its tag names now (read-only); with --write, pin those digests as baton pin would")
    .option("--docker-config <file>", "registry credentials for --resolve (default $DOCKER_CONFIG/config.json or ~/.docker/config.json when present)")
    .action(async (raw: { repo?: string; output?: string; write?: boolean; resolve?: boolean; dockerConfig?: string }) => {
      const opts = commonOptions(raw);
      const proposal = await proposePipeline(opts.repo);
      const resolved = raw.resolve
        ? await resolveTagged(proposal.tagged, new RegistryClient({ credentials: await dockerConfigCredentials(raw.dockerConfig ?? defaultDockerConfigPath(), raw.dockerConfig === undefined) }))
        : undefined;
      // With --write: baton.yaml, the moves and every pin, or nothing at all (every pin that cannot be placed is reported).
      const pinned = raw.write ? await writeInit(opts.repo, proposal, resolved) : [];
      if (opts.output === "json") {
        printJson({ ...proposal, written: raw.write === true, ...(resolved ? { resolved, pinned } : {}) });
        return;
      }
      console.log(table(["ENVIRONMENT", "PATH", "KIND", "PROMOTE FROM"], proposal.environments.map((e, i) => [e.name, e.path, e.kind, proposal.environments[i - 1]?.name ?? "-"])));
      for (const move of proposal.moves) console.log(`${raw.write ? "moved" : "move"} ${move.from} → ${move.to}`);
      console.log(`\n${raw.write ? `wrote ${PIPELINE_FILE}:` : `proposed ${PIPELINE_FILE} (run with --write to write it):`}\n\n${proposal.pipelineText}`);
      if (resolved) {
        if (resolved.length > 0) console.log(raw.write ? `pinned (digests from the registries; ${pinned.join(", ") || "no file"} written):` : "digests the tags name now (run with --write to pin them):");
        for (const r of resolved) console.log(r.digest ? `  ${pinCommand(r)}` : `  ${r.image} in ${r.env}: not resolved: ${r.error ?? "unknown"}`);
      } else if (proposal.tagged.length > 0) {
        console.log(`images still on a tag (pin each by digest, or run with --resolve to ask the registries; baton validate refuses tags while requireDigests is on):`);
        for (const t of proposal.tagged) console.log(`  ${t.fix}`);
      }
      for (const p of proposal.problems) console.error(`warning: ${p.env} does not render yet: ${p.message}`);
    });
}
