/**
 * Commit signature verification with the `git` binary, as a user checks one by hand: `git verify-commit`
 * against exactly the trusted keys, nothing else. SSH keys go into an allowed-signers file
 * (gpg.ssh.allowedSignersFile, any principal, namespace "git"); OpenPGP keys into a throwaway GNUPGHOME.
 * The user's and the system's git config are never read, so no other trust setting can widen the set.
 * git, gpg and ssh-keygen do the cryptography; parsing the Secret's values (pure) is done here.
 */
import { execFile } from "node:child_process";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { BatonError } from "../errors.js";

export interface TrustedKeys {
  /** OpenSSH public keys as `<type> <base64>` (comments dropped). */
  ssh: string[];
  /** ASCII-armored OpenPGP public key blocks, with the Secret key each came from. */
  gpg: Array<{ name: string; armored: string }>;
}

const SSH_TYPES = new Set(["ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com"]);
const PGP_BLOCK = /-----BEGIN PGP PUBLIC KEY BLOCK-----[\s\S]*?-----END PGP PUBLIC KEY BLOCK-----/g;
const MAX_VALUE_BYTES = 256 * 1024;

/**
 * The trusted keys in a Secret's values (decoded): each value holds ASCII-armored OpenPGP public keys, or
 * OpenSSH public keys one per line (`ssh-ed25519 AAAA… comment`, as in a `.pub` file or authorized_keys
 * without options). A value that is neither, or that holds a private key, is an error naming its key
 * (never its content). `where` names the Secret in messages.
 */
export function parseTrustedKeys(values: Record<string, string>, where: string): TrustedKeys {
  const keys: TrustedKeys = { ssh: [], gpg: [] };
  const bad = (name: string, why: string) => new BatonError("COMMIT_KEYS_INVALID", `${where} key "${name}" ${why}`, {
    field: "spec.verify.secretRef.name", hint: "put public keys only: an armored OpenPGP block (gpg --armor --export) or OpenSSH public keys, one per line (ssh-keygen -y, *.pub)",
  });
  for (const [name, value] of Object.entries(values).sort(([a], [b]) => a.localeCompare(b))) {
    if (Buffer.byteLength(value) > MAX_VALUE_BYTES) throw bad(name, `is larger than ${MAX_VALUE_BYTES / 1024} KiB`);
    if (/PRIVATE KEY/.test(value)) throw bad(name, "holds a private key; nothing was read from it");
    const blocks = value.match(PGP_BLOCK);
    if (blocks) {
      for (const armored of blocks) keys.gpg.push({ name, armored });
      continue;
    }
    const lines = value.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== "" && !l.startsWith("#"));
    if (lines.length === 0) throw bad(name, "is empty");
    for (const [i, line] of lines.entries()) {
      const [type = "", blob = ""] = line.split(/\s+/);
      if (!SSH_TYPES.has(type) || !/^[A-Za-z0-9+/]+={0,3}$/.test(blob)) throw bad(name, `line ${i + 1} is neither an OpenSSH public key nor part of an OpenPGP public key block`);
      keys.ssh.push(`${type} ${blob}`);
    }
  }
  if (keys.ssh.length + keys.gpg.length === 0) {
    throw new BatonError("COMMIT_KEYS_INVALID", `${where} holds no keys`, { field: "spec.verify.secretRef.name", hint: "add OpenPGP or OpenSSH public keys to the Secret, one or more per key" });
  }
  return keys;
}

export type SignatureCheck =
  | { verified: true; signer: string }
  | { verified: false; reason: "unsigned" | "untrusted" | "invalid"; detail: string };

/** What `git verify-commit --raw` said, in Baton's words (pure). `ok`: its exit status was 0. */
export function interpretVerifyOutput(ok: boolean, output: string): SignatureCheck {
  const text = output.trim();
  const sshGood = /Good "git" signature (?:for \S+ )?with (\S+) key (SHA256:[A-Za-z0-9+/=]+)/.exec(text);
  const gpgGood = /^\[GNUPG:\] VALIDSIG ([0-9A-F]{40,64})/m.exec(text);
  if (ok && (sshGood || gpgGood)) return { verified: true, signer: sshGood ? `${sshGood[1]} ${sshGood[2]}` : `OpenPGP ${gpgGood?.[1] ?? ""}` };
  if (text === "") return { verified: false, reason: "unsigned", detail: "it is not signed" };
  if (/No principal matched|NO_PUBKEY/.test(text)) {
    const gpgKey = /NO_PUBKEY ([0-9A-F]+)/.exec(text)?.[1];
    const who = sshGood ? ` (${sshGood[1]} key ${sshGood[2]})` : gpgKey ? ` (OpenPGP key ${gpgKey})` : "";
    return { verified: false, reason: "untrusted", detail: `it is signed by a key that is not trusted${who}` };
  }
  if (/BADSIG|Signature verification failed|Could not verify signature|incorrect signature/i.test(text)) return { verified: false, reason: "invalid", detail: "its signature is INVALID (the commit was changed after signing, or the signature is corrupt)" };
  if (/EXPKEYSIG|REVKEYSIG/.test(text)) return { verified: false, reason: "untrusted", detail: "it is signed by an expired or revoked key" };
  return { verified: false, reason: "invalid", detail: "its signature could not be verified" };
}

export interface VerifyOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
}

/**
 * Verifies the signature of commit `oid` in the repository at `dir` (a clone, or a checkout whose `.git`
 * file points at its gitdir) against `keys` only.
 */
export async function verifyCommitSignature(dir: string, oid: string, keys: TrustedKeys, options: VerifyOptions = {}): Promise<SignatureCheck> {
  const home = await fs.mkdtemp(path.join(os.tmpdir(), "baton-verify-"));
  try {
    const gnupg = path.join(home, "gnupg");
    await fs.mkdir(gnupg, { mode: 0o700 });
    const allowed = path.join(home, "allowed_signers");
    // Any principal may sign with these keys, for git commits only (the allowed-signers namespace).
    await fs.writeFile(allowed, keys.ssh.map((k) => `* namespaces="git" ${k}\n`).join(""));
    const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, GNUPGHOME: gnupg, GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null", LC_ALL: "C" };
    for (const key of keys.gpg) {
      // --no-autostart: importing public keys needs no gpg-agent, and none is left running behind.
      const imported = await run("gpg", ["--batch", "--quiet", "--no-autostart", "--import"], env, options, key.armored);
      if (imported.code !== 0) {
        throw new BatonError("COMMIT_KEYS_INVALID", `the OpenPGP key "${key.name}" could not be imported (gpg exit ${imported.code})`, { field: "spec.verify.secretRef.name", hint: "export it again with gpg --armor --export <key id>" });
      }
    }
    const result = await run("git", ["-C", dir, "-c", `gpg.ssh.allowedSignersFile=${allowed}`, "verify-commit", "--raw", oid], env, options);
    return interpretVerifyOutput(result.code === 0, result.output);
  } finally {
    await fs.rm(home, { recursive: true, force: true });
  }
}

function run(file: string, args: string[], env: NodeJS.ProcessEnv, options: VerifyOptions, stdin?: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = execFile(file, args, { env, timeout: options.timeoutMs ?? 30_000, maxBuffer: 1024 * 1024, ...(options.signal ? { signal: options.signal } : {}) }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === "number" ? error.code : undefined) : 0;
      if (code === undefined) {
        const missing = (error as NodeJS.ErrnoException | null)?.code === "ENOENT";
        reject(new BatonError("COMMIT_VERIFICATION_FAILED", missing ? `${file} is not installed, so commit signatures cannot be checked` : `${file} did not finish: ${error?.message ?? "unknown error"}`, {
          hint: missing ? `install ${file} in the agent's image (the Baton image has git, gpg and ssh-keygen)` : "retried with the next reconcile", cause: error,
        }));
        return;
      }
      resolve({ code, output: `${stdout}${stderr}` });
    });
    if (stdin !== undefined) child.stdin?.end(stdin);
  });
}
