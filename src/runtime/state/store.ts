/**
 * Where runtime state lives: one directory per container under the state
 * root (default /run/berth-runtime, like /run/runc), holding state.json
 * (written atomically: temp file, rename) and the exec FIFO while
 * the container waits for `start`. The calls are synchronous: the files are
 * small and on a tmpfs, and node:fs/promises would cost more to load and to
 * go through than the calls themselves on the start-up path.
 */
/* eslint-disable @typescript-eslint/require-await -- async API, synchronous calls inside (see above) */
import { chmodSync, closeSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { alreadyExists, cleanupAfterSync, errnoCode, invalidArgument, notFound } from '../../errors.ts';
import type { Spec } from '../../oci/runtime-spec.ts';
import type { CgroupPaths } from '../cgroups/index.ts';
import { type RuntimeHost, standaloneHost } from '../host/host.ts';
import { acquireLock, type Lock, LOCK_FILE } from './lock.ts';
import { parseRecord } from './record.ts';

export const DEFAULT_STATE_ROOT = '/run/berth-runtime';
export const EXEC_FIFO = 'exec.fifo';

export type StoredStatus = 'creating' | 'created' | 'running' | 'stopped';

/** state.json: the runtime-spec state plus what later commands need. */
export interface ContainerRecord {
  ociVersion: string;
  id: string;
  status: StoredStatus;
  pid: number;
  bundle: string;
  annotations?: Record<string, string>;
  rootfs: string;
  created: string;
  owner: string;
  /** /proc/PID/stat start time of the container process, to recognise it later. */
  pidStartTime?: string;
  config: Spec;
  cgroup?: CgroupPaths;
  /** The namespaces the container process is in, for exec: type → the path joined, or "" if new. */
  namespaces: Record<string, string>;
}

const ID_PATTERN = /^[\w+.-]+$/;

export function checkId(id: string): void {
  if (!ID_PATTERN.test(id) || id === '.' || id === '..' || id.length > 1024) {
    throw invalidArgument('invalid_id', `container id "${id}": must be letters, digits, "_", "+", "-" and "." only`);
  }
}

export class StateStore {
  readonly root: string;
  private readonly host: Pick<RuntimeHost, 'lockFile'>;

  constructor(root: string = DEFAULT_STATE_ROOT, host: Pick<RuntimeHost, 'lockFile'> = standaloneHost()) {
    this.root = root;
    this.host = host;
  }

  dir(id: string): string {
    checkId(id);
    return join(this.root, id);
  }

  fifo(id: string): string {
    return join(this.dir(id), EXEC_FIFO);
  }

  lock(id: string): Promise<Lock> {
    checkId(id);
    return acquireLock(this.host, this.root, id);
  }

  /** Claims the id: fails if a container of that id exists. Its lock file (./lock.ts) comes with it. */
  async claim(id: string): Promise<string> {
    const dir = this.dir(id);
    mkdirSync(this.root, { recursive: true, mode: 0o711 });
    try {
      mkdirSync(dir, { mode: 0o711 });
    } catch (err) {
      if (errnoCode(err) === 'EEXIST') throw alreadyExists('container_exists', `container "${id}": already exists`);
      throw err;
    }
    // Past the caller's umask (berth-monitor's is 077): a process of another user opens the exec FIFO in it.
    chmodSync(dir, 0o711);
    closeSync(openSync(join(dir, LOCK_FILE), 'wx', 0o600));
    return dir;
  }

  async exists(id: string): Promise<boolean> {
    try {
      statSync(join(this.dir(id), 'state.json'));
      return true;
    } catch {
      return false;
    }
  }

  async read(id: string): Promise<ContainerRecord> {
    const file = join(this.dir(id), 'state.json');
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') throw notFound('container_not_found', `container "${id}": does not exist`);
      throw err;
    }
    return parseRecord(text, file, id);
  }

  async write(record: ContainerRecord): Promise<void> {
    const dir = this.dir(record.id);
    const file = join(dir, 'state.json');
    const tmp = join(dir, `.state.json.${process.pid}`);
    // Atomic by rename: a reader sees the old state or the new one, never half of one. No fsync:
    // this state describes processes that do not survive the machine (runc does not sync it
    // either), and on a /run that is not a tmpfs each sync cost more than the rest of a command.
    const fd = openSync(tmp, 'w', 0o600);
    try {
      try {
        writeSync(fd, JSON.stringify(record));
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, file);
    } catch (err) {
      // Nothing half-written stays behind; a temp file that cannot go is reported with the failure.
      cleanupAfterSync(err, () => rmSync(tmp, { force: true }));
      throw err;
    }
  }

  async remove(id: string): Promise<void> {
    rmSync(this.dir(id), { recursive: true, force: true });
  }

  async list(): Promise<string[]> {
    try {
      const entries = readdirSync(this.root, { withFileTypes: true });
      return entries.filter((e) => e.isDirectory() && ID_PATTERN.test(e.name)).map((e) => e.name).sort();
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return [];
      throw err;
    }
  }
}
