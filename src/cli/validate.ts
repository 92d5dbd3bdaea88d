import type { Command } from "commander";
import { validateRepo } from "../config/repo.js";
import { shortDigest } from "../config/image-ref.js";
import { commonOptions, printJson, table } from "./output.js";

export function registerValidate(program: Command): void {
  program
    .command("validate")
    .description("check the whole config repo: baton.yaml, that every environment renders, and that pins obey policy; prints every problem")
    .option("--repo <dir>", "config repo checkout", ".")
    .option("-o, --output <format>", "text or json", "text")
    .action(async (raw: { repo?: string; output?: string }) => {
      const opts = commonOptions(raw);
      const report = await validateRepo(opts.repo);
      if (opts.output === "json") {
        printJson({ ok: report.ok, environments: report.environments, errors: report.errors.map((e) => e.toJSON()) });
      } else {
        if (report.environments.length > 0) {
          const rows = report.environments.flatMap((env) =>
            env.pins.length === 0 ? [[env.name, String(env.objects), env.mode, "-", "-"]] : env.pins.map((p) => [env.name, String(env.objects), env.mode, p.repository, shortDigest(p.digest)]),
          );
          console.log(table(["ENVIRONMENT", "OBJECTS", "MODE", "IMAGE", "DIGEST"], rows));
        }
        for (const env of report.environments) {
          for (const file of env.ignored) console.error(`warning: ${file}: ignored (${env.name} renders only *.yaml/*.yml files that are not hidden)`);
          for (const a of env.ignoredAnnotations) console.error(`warning: ${a.file}: ${a.object}: annotation ${a.annotation} is not honoured: ${a.instead}`);
          for (const u of env.unmanagedImages) console.error(`warning: ${u.file}: ${u.field}: image "${u.image}" of ${u.object} is outside a container list: Baton does not check or promote it`);
        }
        for (const e of report.errors) console.error(`error: ${e.oneLine()}`);
        console.log(report.ok ? "config repo is valid" : `${report.errors.length} problem(s) found`);
      }
      process.exitCode = report.ok ? 0 : 1;
    });
}
