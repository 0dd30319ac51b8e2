/**
 * Function secrets (`/system/secrets`), kept as faasd's provider keeps
 * them: one file per secret, ROOT/faas/secrets/NAMESPACE/NAME, here of
 * mode 0600 in directories of mode 0700 (root only: berthd is the one
 * reader, and replicas see a secret through a read-only bind of its file).
 *
 * A name is checked before it becomes a path: letters, digits, ".", "-"
 * and "_", starting and ending with a letter or digit, so "..", "." and
 * anything with "/" never reach the file system. A value is written to a
 * temporary file, synced, then linked (create: refused when the name is
 * taken, atomically) or renamed (update) into place: a reader sees the old
 * value or the new one, never a part. A rename gives the file a new inode,
 * so replicas running when a secret is updated keep the value they were
 * started with (their bind holds the old inode); replicas started after it
 * read the new one.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, fsyncSync, linkSync, mkdirSync, openSync, readdirSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { alreadyExists, errnoCode, invalidArgument, notFound } from '../errors.ts';

/** Where replicas find their secrets, as on OpenFaaS. */
export const SECRETS_MOUNT = '/var/openfaas/secrets';

/** A secret's name: what faasd and Kubernetes accept, and never a path of more than one component. */
export const SECRET_NAME = /^[a-zA-Z0-9]([-._a-zA-Z0-9]*[a-zA-Z0-9])?$/;
const MAX_NAME = 253;
/** A secret bigger than Kubernetes' 1 MiB is refused. */
export const MAX_SECRET_BYTES = 1024 * 1024;

export function checkSecretName(value: unknown, field = 'name'): string {
  if (typeof value !== 'string' || value === '') throw invalidArgument('faas_secret_invalid', `secret: ${field}: a secret name is required (a string)`);
  if (value.length > MAX_NAME || !SECRET_NAME.test(value)) {
    throw invalidArgument('faas_secret_invalid', `secret: ${field}: ${JSON.stringify(value)} is not a secret name (letters, digits, ".", "-" and "_", at most ${MAX_NAME}, starting and ending with a letter or digit)`);
  }
  return value;
}

export class SecretStore {
  readonly dir: string;

  constructor(root: string) {
    this.dir = join(root, 'faas', 'secrets');
  }

  /** The file of a secret (the namespace is checked by the caller, the name here). */
  path(namespace: string, name: string): string {
    return join(this.dir, namespace, checkSecretName(name));
  }

  exists(namespace: string, name: string): boolean {
    try {
      return statSync(this.path(namespace, name)).isFile();
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return false;
      throw err;
    }
  }

  /** The secrets' names in a namespace, sorted. */
  list(namespace: string): string[] {
    try {
      return readdirSync(join(this.dir, namespace), { withFileTypes: true })
        .filter((e) => e.isFile() && SECRET_NAME.test(e.name))
        .map((e) => e.name)
        .sort();
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return [];
      throw err;
    }
  }

  /** The namespaces that hold a secret directory. */
  namespaces(): string[] {
    try {
      return readdirSync(this.dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return [];
      throw err;
    }
  }

  create(namespace: string, name: string, value: Buffer): void {
    const target = this.path(namespace, name);
    const tmp = this.writeTemp(namespace, value);
    try {
      linkSync(tmp, target);
    } catch (err) {
      if (errnoCode(err) === 'EEXIST') throw alreadyExists('faas_secret_exists', `secret "${name}": already exists in namespace ${namespace} (update it with PUT)`);
      throw err;
    } finally {
      unlinkSync(tmp);
    }
  }

  update(namespace: string, name: string, value: Buffer): void {
    const target = this.path(namespace, name);
    if (!this.exists(namespace, name)) throw this.missing(namespace, name);
    renameSync(this.writeTemp(namespace, value), target);
  }

  remove(namespace: string, name: string): void {
    try {
      unlinkSync(this.path(namespace, name));
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') throw this.missing(namespace, name);
      throw err;
    }
  }

  missing(namespace: string, name: string): Error {
    return notFound('faas_secret_not_found', `secret "${name}": not found in namespace ${namespace}`);
  }

  private writeTemp(namespace: string, value: Buffer): string {
    const dir = join(this.dir, namespace);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    // mkdir's mode passes through the umask, and a directory made before may have another.
    chmodSync(this.dir, 0o700);
    chmodSync(dir, 0o700);
    // A dot-name no secret can have (names start with a letter or digit): never listed, never mounted.
    const tmp = join(dir, `.tmp-${randomBytes(6).toString('hex')}`);
    const fd = openSync(tmp, 'wx', 0o600);
    try {
      let off = 0;
      while (off < value.length) off += writeSync(fd, value, off);
      fsyncSync(fd);
    } catch (err) {
      closeSync(fd);
      unlinkSync(tmp);
      throw err;
    }
    closeSync(fd);
    return tmp;
  }
}
