/**
 * The CLI's gateway credentials, kept where and as faas-cli keeps them, so
 * either tool's `login` serves both: `config.yml` in OPENFAAS_CONFIG or
 * ~/.openfaas (directory 0700, file 0600), a list of
 * `{gateway, auth: basic, token: base64(user:password)}`. Written whole to
 * a temporary file and renamed, so a reader never sees half a file.
 */
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseDocument, stringify } from 'yaml';
import { errnoCode, invalidArgument } from '../../../../errors.ts';

export interface AuthEntry {
  gateway: string;
  auth: string;
  token: string;
}

export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  const dir = env['OPENFAAS_CONFIG'];
  return join(dir !== undefined && dir !== '' ? dir : join(homedir(), '.openfaas'), 'config.yml');
}

export function readAuths(file: string): AuthEntry[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return [];
    throw err;
  }
  const doc = parseDocument(text, { schema: 'failsafe' });
  if (doc.errors.length > 0) throw invalidArgument('fn_stack_invalid', `${file}: not valid YAML (${doc.errors[0]?.message.split('\n')[0] ?? ''})`);
  const v = doc.toJS() as unknown;
  const auths = typeof v === 'object' && v !== null ? (v as Record<string, unknown>)['auths'] : undefined;
  if (!Array.isArray(auths)) return [];
  return auths.flatMap((a: unknown) => {
    if (typeof a !== 'object' || a === null) return [];
    const { gateway, auth, token } = a as Record<string, unknown>;
    return typeof gateway === 'string' && typeof token === 'string' ? [{ gateway, auth: typeof auth === 'string' ? auth : 'basic', token }] : [];
  });
}

export function encodeAuth(user: string, password: string): string {
  return Buffer.from(`${user}:${password}`, 'utf8').toString('base64');
}

/** Stores (or replaces) the credentials of one gateway. */
export function saveAuth(file: string, gateway: string, user: string, password: string): void {
  const auths = readAuths(file).filter((a) => a.gateway !== gateway);
  auths.push({ gateway, auth: 'basic', token: encodeAuth(user, password) });
  const dir = join(file, '..');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, stringify({ auths }), { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}

/** The Authorization header stored for a gateway, if any. */
export function storedAuthorization(file: string, gateway: string): string | undefined {
  const a = readAuths(file).find((x) => x.gateway === gateway && x.auth === 'basic');
  return a === undefined ? undefined : `Basic ${a.token}`;
}
