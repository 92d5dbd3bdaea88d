/**
 * The last line of defence for secret values: every credential Baton reads (git passwords and tokens,
 * GitHub tokens and App keys, webhook secrets, notification URLs and signing secrets) is registered here,
 * and log lines, status messages, Events and CLI errors pass through `scrubSecrets` before they leave the
 * process. Code should not put secrets into messages in the first place; this catches what slips through
 * (a library error that quotes its input, a URL with a token in its path).
 */
const registered = new Set<string>();

/** Shorter values would redact ordinary words; real credentials are longer. */
const MIN_LENGTH = 6;

export function registerSecret(value: string | undefined): void {
  if (!value || value.length < MIN_LENGTH) return;
  registered.add(value);
  // The same value as it appears inside JSON strings (log lines) and URLs.
  const json = JSON.stringify(value).slice(1, -1);
  if (json !== value) registered.add(json);
  const encoded = encodeURIComponent(value);
  if (encoded !== value) registered.add(encoded);
  // A multi-line key (PEM) may appear one line at a time.
  for (const line of value.split(/\r?\n/)) if (line.length >= 16) registered.add(line);
}

/** `scheme://user:password@host`: credentials in a URL, whoever wrote it (a clone URL with a token, git's stderr). */
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/@"'<>]+@/gi;

export function scrubSecrets(text: string): string {
  let out = text.includes("@") ? text.replace(URL_USERINFO, "$1redacted@") : text;
  if (registered.size === 0) return out;
  // Longest first, so a secret containing another is replaced whole.
  for (const secret of [...registered].sort((a, b) => b.length - a.length)) {
    if (out.includes(secret)) out = out.split(secret).join("[redacted]");
  }
  return out;
}
