/**
 * Basic auth on the gateway's `/system/*`, as OpenFaaS keeps it: a user
 * and a password in files `secrets/basic-auth-user` and
 * `secrets/basic-auth-password` under berth's root (mode 0600), made at
 * first start (user "admin", a random password) and read as they are
 * afterwards, so an operator may write their own. Compared in constant
 * time over SHA-256 digests (equal lengths whatever the input).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { errnoCode, failedPrecondition } from '../errors.ts';

export interface Credentials {
  user: string;
  password: string;
}

export const AUTH_REALM = 'OpenFaaS';

export function secretsDir(root: string): string {
  return join(root, 'secrets');
}

function readOrCreate(path: string, make: () => string): string {
  try {
    // 'wx': made once; a second berthd starting at the same moment reads the first one's.
    writeFileSync(path, make(), { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if (errnoCode(err) !== 'EEXIST') throw err;
  }
  const value = readFileSync(path, 'utf8').trim();
  if (value === '') throw failedPrecondition('faas_auth_invalid', `${path}: empty; write a value or remove the file to have one made`);
  return value;
}

/** The gateway's credentials under `root`, made on first use. */
export function loadCredentials(root: string): Credentials {
  const dir = secretsDir(root);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return {
    user: readOrCreate(join(dir, 'basic-auth-user'), () => 'admin'),
    password: readOrCreate(join(dir, 'basic-auth-password'), () => randomBytes(24).toString('base64url')),
  };
}

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/** Whether an Authorization header carries these credentials. */
export function authorized(header: string | undefined, c: Credentials): boolean {
  const m = header === undefined ? null : /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  const decoded = m === null ? '' : Buffer.from(m[1] ?? '', 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const user = colon < 0 ? '' : decoded.slice(0, colon);
  const password = colon < 0 ? '' : decoded.slice(colon + 1);
  // Both compared, always: which one was wrong takes no different time.
  const okUser = timingSafeEqual(digest(user), digest(c.user));
  const okPassword = timingSafeEqual(digest(password), digest(c.password));
  return m !== null && colon >= 0 && okUser && okPassword;
}
