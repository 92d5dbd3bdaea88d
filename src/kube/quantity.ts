/**
 * Kubernetes resource quantities (`500m`, `0.5`, `1Gi`, `1024Mi`, `1e3`) compared exactly, as the API
 * server normalises them: git may say `cpu: 0.5` and the live object `500m`, which is no drift.
 * Hand-written because @kubernetes/client-node's quantityToScalar mixes number and bigint, loses
 * precision, and throws on fractional binary quantities such as `1.5Gi`.
 */
const BINARY: Record<string, bigint> = { Ki: 1n << 10n, Mi: 1n << 20n, Gi: 1n << 30n, Ti: 1n << 40n, Pi: 1n << 50n, Ei: 1n << 60n };
const DECIMAL: Record<string, number> = { n: -9, u: -6, m: -3, "": 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const QUANTITY = /^([+-]?)(\d+(?:\.\d*)?|\.\d+)(?:(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])|[eE]([+-]?\d+))?$/;

/** An exact rational `num / den`, or undefined when `value` is not a quantity. */
export function parseQuantity(value: unknown): { num: bigint; den: bigint } | undefined {
  const text = typeof value === "number" && Number.isFinite(value) ? String(value) : value;
  if (typeof text !== "string") return undefined;
  const m = QUANTITY.exec(text.trim());
  if (!m) return undefined;
  const [, sign = "", digits = "", suffix, exponent] = m;
  const [whole = "", fraction = ""] = digits.split(".");
  let num = BigInt(`${whole}${fraction}` || "0") * (sign === "-" ? -1n : 1n);
  let den = 10n ** BigInt(fraction.length);
  if (suffix && BINARY[suffix] !== undefined) num *= BINARY[suffix];
  else {
    const exp = exponent !== undefined ? Number(exponent) : DECIMAL[suffix ?? ""] ?? 0;
    if (Math.abs(exp) > 100) return undefined;
    if (exp >= 0) num *= 10n ** BigInt(exp);
    else den *= 10n ** BigInt(-exp);
  }
  return { num, den };
}

/** True when both are quantities of the same value. */
export function sameQuantity(a: unknown, b: unknown): boolean {
  const x = parseQuantity(a), y = parseQuantity(b);
  return x !== undefined && y !== undefined && x.num * y.den === y.num * x.den;
}
