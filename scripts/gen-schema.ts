/** Writes schema/baton.schema.json from the zod schema that Baton itself validates baton.yaml with. */
import { promises as fs } from "node:fs";
import path from "node:path";
import { zodToJsonSchema } from "zod-to-json-schema";
import { PipelineSchema } from "../src/config/pipeline.js";

export function pipelineJsonSchema(): string {
  const schema = zodToJsonSchema(PipelineSchema, { name: "Pipeline", $refStrategy: "none" });
  return `${JSON.stringify({ $id: "https://baton.dev/schemas/baton.schema.json", title: "Baton pipeline (baton.yaml)", ...schema }, null, 2)}\n`;
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) {
  await fs.writeFile(path.resolve(import.meta.dirname, "../schema/baton.schema.json"), pipelineJsonSchema());
  console.log("wrote schema/baton.schema.json");
}
