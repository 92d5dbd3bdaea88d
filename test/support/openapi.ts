/**
 * Checks the GitHub double's traffic against GitHub's official OpenAPI description (@octokit/openapi):
 * the operation must exist, query parameters must be declared with valid values, request bodies must
 * match their schema, and every field a response carries must match the response schema. Responses are
 * checked for shape, not completeness (the double sends only the fields Baton reads), and `oneOf` is
 * treated as `anyOf` because GitHub's schemas overlap without additionalProperties: false.
 */
import { createRequire } from "node:module";

type Schema = Record<string, unknown>;
interface Parameter { name: string; in: string; required?: boolean; schema?: Schema }
interface Operation { parameters?: Array<Parameter | { $ref: string }>; requestBody?: { content?: Record<string, { schema?: Schema }> }; responses?: Record<string, { content?: Record<string, { schema?: Schema }> }> }
interface Spec { paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, Schema>; parameters: Record<string, Parameter> } }

let cached: Spec | undefined;
function spec(): Spec {
  cached ??= createRequire(import.meta.url)("@octokit/openapi/generated/api.github.com.json") as Spec;
  return cached;
}

function resolve<T>(value: T | { $ref: string }): T {
  if (value && typeof value === "object" && "$ref" in value && typeof value.$ref === "string") {
    const parts = value.$ref.replace(/^#\//, "").split("/");
    let node: unknown = spec();
    for (const p of parts) node = (node as Record<string, unknown>)[p];
    return resolve(node as T);
  }
  return value as T;
}

function typeOf(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "number") return Number.isInteger(v) ? "integer" : "number";
  return typeof v;
}

/** Problems with `value` against `schema`; `partial` skips `required` (for the double's trimmed responses). */
export function validateSchema(raw: Schema | { $ref: string }, value: unknown, where: string, partial = false): string[] {
  const schema = resolve<Schema>(raw);
  const problems: string[] = [];
  if (value === null && schema.nullable === true) return problems;
  if (Array.isArray(schema.allOf)) for (const s of schema.allOf as Schema[]) problems.push(...validateSchema(s, value, where, partial));
  for (const key of ["anyOf", "oneOf"] as const) {
    const options = schema[key];
    if (Array.isArray(options) && !(options as Schema[]).some((s) => validateSchema(s, value, where, partial).length === 0)) problems.push(`${where}: matches none of ${key}`);
  }
  const type = schema.type;
  if (typeof type === "string" || Array.isArray(type)) {
    const allowed = (Array.isArray(type) ? type : [type]) as string[];
    const actual = typeOf(value);
    if (!allowed.includes(actual) && !(actual === "integer" && allowed.includes("number"))) return [...problems, `${where}: expected ${allowed.join("|")}, got ${actual}`];
  }
  if (Array.isArray(schema.enum) && !schema.enum.includes(value)) problems.push(`${where}: ${JSON.stringify(value)} not in ${JSON.stringify(schema.enum)}`);
  if (typeof schema.maxLength === "number" && typeof value === "string" && value.length > schema.maxLength) problems.push(`${where}: longer than ${schema.maxLength}`);
  if (Array.isArray(value) && schema.items) value.forEach((item, i) => problems.push(...validateSchema(schema.items as Schema, item, `${where}[${i}]`, partial)));
  if (typeOf(value) === "object") {
    const obj = value as Record<string, unknown>;
    const props = (schema.properties ?? {}) as Record<string, Schema>;
    if (!partial) for (const r of (schema.required ?? []) as string[]) if (!(r in obj)) problems.push(`${where}: missing required ${r}`);
    for (const [k, v] of Object.entries(obj)) {
      if (props[k]) problems.push(...validateSchema(props[k], v, `${where}.${k}`, partial));
      else if (schema.additionalProperties === false) problems.push(`${where}: unknown property ${k}`);
    }
  }
  return problems;
}

export interface Exchange { method: string; path: string; query: URLSearchParams; body: unknown; status: number; response: unknown }

// ~1,000 path templates: compiled once per process, not once per request (the stand-in validates every exchange).
let matchers: Array<{ pattern: RegExp; operations: Record<string, Operation> }> | undefined;
function pathMatchers(): NonNullable<typeof matchers> {
  matchers ??= Object.entries(spec().paths).map(([template, operations]) => ({ pattern: new RegExp(`^${template.replace(/\{[^}]+\}/g, "[^/]+")}$`), operations }));
  return matchers;
}

/** Finds the operation for `path` (without the API prefix) and checks one request/response pair. */
export function validateExchange(x: Exchange): string[] {
  const where = `${x.method} ${x.path}`;
  const match = pathMatchers().find((m) => m.pattern.test(x.path));
  const op = match?.operations[x.method.toLowerCase()];
  if (!match || !op) return [`${where}: no such operation in GitHub's OpenAPI description`];
  const problems: string[] = [];
  const params = (op.parameters ?? []).map((p) => resolve<Parameter>(p)).filter((p) => p.in === "query");
  for (const [name, value] of x.query) {
    const param = params.find((p) => p.name === name);
    if (!param) problems.push(`${where}: undeclared query parameter ${name}`);
    else if (param.schema) problems.push(...validateSchema(param.schema, /^(integer|number)$/.test(String(resolve<Schema>(param.schema).type)) ? Number(value) : value, `${where}?${name}`));
  }
  const bodySchema = op.requestBody?.content?.["application/json"]?.schema;
  if (bodySchema && x.body !== undefined) problems.push(...validateSchema(bodySchema, x.body, `${where} request`));
  const response = op.responses?.[String(x.status)];
  if (!response) problems.push(`${where}: status ${x.status} is not a documented response`);
  const responseSchema = response?.content?.["application/json"]?.schema;
  if (responseSchema && x.status < 300) problems.push(...validateSchema(responseSchema, x.response, `${where} response`, true));
  return problems;
}
