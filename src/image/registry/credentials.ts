/**
 * Registry credentials in the docker CLI's file, `~/.docker/config.json`
 * (or `$DOCKER_CONFIG/config.json`, or an explicit --authfile):
 * `{"auths": {"host:port": {"auth": base64("user:password")}}}`. Other keys
 * in the file (credHelpers, proxies, …) are kept as they are on write.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { errnoCode, invalidArgument } from '../../errors.ts';
import { writeFileAtomic } from '../store/content.ts';

export interface Credentials {
  username: string;
  password: string;
}

export function defaultAuthFile(env: NodeJS.ProcessEnv = process.env): string {
  const dir = env['DOCKER_CONFIG'] ?? join(env['HOME'] ?? homedir(), '.docker');
  return join(dir, 'config.json');
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** "https://host:5000/v1/" → "host:5000": how the docker CLI keys its auths. */
export function normalizeAuthKey(key: string): string {
  return key.replace(/^[a-z]+:\/\//i, '').replace(/\/.*$/, '');
}

async function readConfig(file: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return {};
    throw err;
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw invalidArgument('invalid_auth_file', `auth file ${file}: not valid JSON`, { cause: err });
  }
  if (!isRecord(doc)) throw invalidArgument('invalid_auth_file', `auth file ${file}: not a JSON object`);
  return doc;
}

function decodeAuth(file: string, key: string, entry: unknown): Credentials | undefined {
  if (!isRecord(entry)) return undefined;
  if (typeof entry['auth'] === 'string' && entry['auth'] !== '') {
    const decoded = Buffer.from(entry['auth'], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) throw invalidArgument('invalid_auth_file', `auth file ${file}: auths["${key}"].auth: not base64 of "user:password"`);
    return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  if (typeof entry['username'] === 'string' && typeof entry['password'] === 'string') {
    return { username: entry['username'], password: entry['password'] };
  }
  return undefined;
}

export async function lookupCredentials(registry: string, file = defaultAuthFile()): Promise<Credentials | undefined> {
  const auths = (await readConfig(file))['auths'];
  if (!isRecord(auths)) return undefined;
  for (const [key, entry] of Object.entries(auths)) {
    if (normalizeAuthKey(key) === registry) {
      const creds = decodeAuth(file, key, entry);
      if (creds !== undefined) return creds;
    }
  }
  return undefined;
}

export async function storeCredentials(registry: string, creds: Credentials, file = defaultAuthFile()): Promise<void> {
  const doc = await readConfig(file);
  const auths = isRecord(doc['auths']) ? doc['auths'] : {};
  for (const key of Object.keys(auths)) if (normalizeAuthKey(key) === registry) delete auths[key];
  auths[registry] = { auth: Buffer.from(`${creds.username}:${creds.password}`).toString('base64') };
  doc['auths'] = auths;
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  await writeFileAtomic(file, `${JSON.stringify(doc, null, '\t')}\n`, 0o600);
}

/** Removes a registry's entry; false when there was none. */
export async function removeCredentials(registry: string, file = defaultAuthFile()): Promise<boolean> {
  const doc = await readConfig(file);
  const auths = doc['auths'];
  if (!isRecord(auths)) return false;
  let removed = false;
  for (const key of Object.keys(auths)) {
    if (normalizeAuthKey(key) === registry) {
      delete auths[key];
      removed = true;
    }
  }
  if (removed) await writeFileAtomic(file, `${JSON.stringify(doc, null, '\t')}\n`, 0o600);
  return removed;
}

/** Forgets every registry's credentials (`logout --all`); the file's other settings stay. */
export async function removeAllCredentials(file = defaultAuthFile()): Promise<void> {
  const doc = await readConfig(file);
  doc['auths'] = {};
  await writeFileAtomic(file, `${JSON.stringify(doc, null, '\t')}\n`, 0o600);
}
