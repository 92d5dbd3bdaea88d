// Commit signature verification: which Secret values are keys (pure), what git's answer means (pure), and
// real `git verify-commit` runs against SSH and OpenPGP signatures made here with ssh-keygen and gpg.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { BatonError } from "../../src/errors.js";
import { interpretVerifyOutput, parseTrustedKeys, verifyCommitSignature } from "../../src/git/commit-signature.js";

const exec = promisify(execFile);
const ED25519 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGh1c3RsZXJzIHNpZ25pbmcga2V5IGZvciB0ZXN0cw";
const PGP = "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmDMEZabc\n=abcd\n-----END PGP PUBLIC KEY BLOCK-----\n";

test("Secret values: OpenSSH public keys one per line, armored OpenPGP blocks; anything else names its key", () => {
  const keys = parseTrustedKeys({ "team.pub": `# the release team\n${ED25519} ci@example.com\n\necdsa-sha2-nistp256 AAAAE2VjZHNh other\n`, "ci.asc": PGP }, "Secret apps/keys");
  assert.deepEqual(keys.ssh, [ED25519, "ecdsa-sha2-nistp256 AAAAE2VjZHNh"]);
  assert.deepEqual(keys.gpg.map((k) => k.name), ["ci.asc"]);
  const refused = (values: Record<string, string>, message: RegExp) => assert.throws(() => parseTrustedKeys(values, "Secret apps/keys"), (e: unknown) => e instanceof BatonError && e.code === "COMMIT_KEYS_INVALID" && message.test(e.message) && e.field === "spec.verify.secretRef.name");
  refused({ "id_ed25519": "-----BEGIN OPENSSH PRIVATE KEY-----\nsecretstuff\n-----END OPENSSH PRIVATE KEY-----\n" }, /key "id_ed25519" holds a private key/);
  // An option prefix (authorized_keys style) or a stray word cannot smuggle anything into the allowed-signers file.
  refused({ "team.pub": `command="x" ${ED25519}` }, /key "team\.pub" line 1 is neither/);
  refused({ "team.pub": `${ED25519}\nssh-ed25519 not-base64!` }, /line 2 is neither/);
  refused({ "empty": "  \n" }, /key "empty" is empty/);
  refused({}, /Secret apps\/keys holds no keys/);
  // The private key's content never appears in the message.
  assert.throws(() => parseTrustedKeys({ k: "-----BEGIN OPENSSH PRIVATE KEY-----\nsecretstuff\n" }, "Secret apps/keys"), (e: unknown) => e instanceof BatonError && !/secretstuff/.test(e.message) && !/secretstuff/.test(e.hint ?? ""));
});

test("git's answer: good SSH and OpenPGP signatures name the key; unsigned, unknown key and bad signature are told apart", () => {
  assert.deepEqual(interpretVerifyOutput(true, 'Good "git" signature for * with ED25519 key SHA256:AS9dFJIcauLNhICrSVoJjMnln6OZEch68jxa54ZClx8\n'), { verified: true, signer: "ED25519 SHA256:AS9dFJIcauLNhICrSVoJjMnln6OZEch68jxa54ZClx8" });
  assert.deepEqual(interpretVerifyOutput(true, "[GNUPG:] GOODSIG 0A4534640BF9F5DC CI\n[GNUPG:] VALIDSIG 189C7A4E7CF0BAD03822510A0A4534640BF9F5DC 2026-11-27 1 0 4 0 22 8 00 189C\n"), { verified: true, signer: "OpenPGP 189C7A4E7CF0BAD03822510A0A4534640BF9F5DC" });
  assert.deepEqual(interpretVerifyOutput(false, ""), { verified: false, reason: "unsigned", detail: "it is not signed" });
  assert.deepEqual(interpretVerifyOutput(false, 'Good "git" signature with ED25519 key SHA256:/DRpHV\nNo principal matched.\n'), { verified: false, reason: "untrusted", detail: "it is signed by a key that is not trusted (ED25519 key SHA256:/DRpHV)" });
  assert.deepEqual(interpretVerifyOutput(false, "[GNUPG:] ERRSIG 0A45 22 8 00 1 9 189C\n[GNUPG:] NO_PUBKEY 0A4534640BF9F5DC\n"), { verified: false, reason: "untrusted", detail: "it is signed by a key that is not trusted (OpenPGP key 0A4534640BF9F5DC)" });
  assert.equal(interpretVerifyOutput(false, "[GNUPG:] BADSIG 0A4534640BF9F5DC CI\n").verified, false);
  assert.equal((interpretVerifyOutput(false, "[GNUPG:] BADSIG 0A4534640BF9F5DC CI\n") as { reason: string }).reason, "invalid");
  // A zero exit without a recognisable good signature is not trusted.
  assert.equal(interpretVerifyOutput(true, "something else").verified, false);
});

test("real signatures: SSH and OpenPGP signers in the key set verify; unsigned and other keys' commits do not", async () => {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), "baton-commit-sig-"));
  const gnupg = path.join(root, "gnupg");
  const env = { ...process.env, HOME: root, GNUPGHOME: gnupg, GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null" };
  const run = async (file: string, args: string[]) => (await exec(file, args, { env, cwd: root, encoding: "utf8" })).stdout.trim();
  try {
    await fs.mkdir(gnupg, { mode: 0o700 });
    await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", path.join(root, "trusted"), "-C", "ci"]);
    await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", path.join(root, "other"), "-C", "someone"]);
    await run("gpg", ["--batch", "--quiet", "--pinentry-mode", "loopback", "--passphrase", "", "--quick-gen-key", "CI <ci@example.com>", "ed25519", "sign", "never"]);
    const armored = await run("gpg", ["--armor", "--export", "ci@example.com"]);
    const repo = path.join(root, "repo");
    const git = (...args: string[]) => run("git", ["-C", repo, ...args]);
    await run("git", ["init", "-q", repo]);
    await git("config", "user.email", "ci@example.com");
    await git("config", "user.name", "CI");
    const commit = async (message: string, sign?: { format: "ssh" | "openpgp"; key: string }) => {
      await fs.writeFile(path.join(repo, "f"), message);
      await git("add", "f");
      await git(...(sign ? ["-c", `gpg.format=${sign.format}`, "-c", `user.signingkey=${sign.key}`] : []), "commit", "-q", ...(sign ? ["-S"] : []), "-m", message);
      return git("rev-parse", "HEAD");
    };
    const sshSigned = await commit("ssh", { format: "ssh", key: path.join(root, "trusted") });
    const gpgSigned = await commit("gpg", { format: "openpgp", key: "ci@example.com" });
    const unsigned = await commit("plain");
    const otherKey = await commit("other", { format: "ssh", key: path.join(root, "other") });
    const keys = parseTrustedKeys({ "ci.pub": await fs.readFile(path.join(root, "trusted.pub"), "utf8"), "ci.asc": armored }, "Secret apps/keys");

    const ssh = await verifyCommitSignature(repo, sshSigned, keys);
    assert.equal(ssh.verified, true);
    assert.match(ssh.verified ? ssh.signer : "", /^ED25519 SHA256:/);
    const gpg = await verifyCommitSignature(repo, gpgSigned, keys);
    assert.equal(gpg.verified, true);
    assert.match(gpg.verified ? gpg.signer : "", /^OpenPGP [0-9A-F]{40}$/);
    assert.deepEqual(await verifyCommitSignature(repo, unsigned, keys), { verified: false, reason: "unsigned", detail: "it is not signed" });
    const other = await verifyCommitSignature(repo, otherKey, keys);
    assert.equal(other.verified ? "verified" : other.reason, "untrusted");
    // Only the keys given count: the OpenPGP-signed commit is refused when the Secret holds only the SSH key.
    const sshOnly = await verifyCommitSignature(repo, gpgSigned, { ssh: keys.ssh, gpg: [] });
    assert.equal(sshOnly.verified ? "verified" : sshOnly.reason, "untrusted");
  } finally {
    await exec("gpgconf", ["--kill", "gpg-agent"], { env }).catch(() => undefined);
    await fs.rm(root, { recursive: true, force: true });
  }
});
