/**
 * Local volumes: a record in engine_volumes (schema in store/db.ts) and a
 * directory `<root>/volumes/<name>/_data`, docker's layout and modes (the
 * volumes directory 0700, `_data` 0755 for the container's users).
 *
 * The directory is made before the record and removed after it, through a
 * rename to `.trash-*` first, so a crash leaves either a whole volume, a
 * directory without a record, or trash (removed by `recover`), never a
 * record without its data. A named volume's directory without a record is
 * adopted by `recover`, as docker's local driver adopts the directories it
 * finds; an anonymous one's (64 hex digits) is removed: its record is
 * missing only because a crash cut the create of its container (which
 * `recover` undoes) or its removal with that container (`rm -v`), and
 * nobody holds its name to reach it.
 */
import { chmodSync, lstatSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { DatabaseSync } from 'node:sqlite';
import { errnoCode, failedPrecondition, isBerthError, notFound, unsupported, type BerthError } from '../../errors.ts';
import { privateDir } from '../../image/store/private-dir.ts';
import { inTransaction } from '../store/db.ts';
import { isValidName } from '../store/names.ts';
import { parseStoredLabels, storedInt, storedString } from '../../sqlite-row.ts';
import { checkVolumeName, newVolumeName, volumePaths, volumesDir } from './names.ts';
import { directorySize } from './size.ts';

export interface VolumeRecord {
  name: string;
  driver: 'local';
  /** The `_data` directory a container mounts. */
  mountpoint: string;
  labels: Record<string, string>;
  anonymous: boolean;
  createdAt: string;
  /** IDs of the containers that use it. */
  usedBy: string[];
}

export interface CreateVolume {
  /** Absent: an anonymous volume with a generated 64-hex name. */
  name?: string;
  driver?: string;
  labels?: Record<string, string>;
}

export interface VolumeFilters {
  /** Substring of the name, as docker's name filter. */
  name?: string[];
  /** `key` or `key=value`; all must match. */
  label?: string[];
  /** true: only volumes no container uses; false: only used ones. */
  dangling?: boolean;
}

export interface PruneResult {
  removed: string[];
  spaceReclaimed: number;
}

const ANONYMOUS = /^[0-9a-f]{64}$/;
const TRASH = '.trash-';

export class VolumeStore {
  readonly db: DatabaseSync;
  readonly root: string;

  constructor(db: DatabaseSync, root: string) {
    this.db = db;
    this.root = root;
    privateDir(volumesDir(root));
    mustBeDirectory(volumesDir(root));
  }

  /** Creates a volume; a name that exists already returns that volume, as docker does. */
  create(input: CreateVolume = {}): VolumeRecord {
    const driver = input.driver ?? 'local';
    if (driver !== 'local') throw unsupported('volume_driver_unsupported', `volume driver "${driver}": not supported, only "local"`);
    const anonymous = input.name === undefined;
    const name = input.name === undefined ? newVolumeName() : checkVolumeName(input.name);
    const existing = this.find(name);
    if (existing !== undefined) return existing;
    return this.make(name, anonymous, input.labels ?? {});
  }

  inspect(name: string): VolumeRecord {
    const record = this.find(checkVolumeName(name));
    if (record === undefined) throw notFound('volume_not_found', `volume "${name}": not found`);
    return record;
  }

  list(filters: VolumeFilters = {}): VolumeRecord[] {
    const rows = this.db.prepare('SELECT * FROM engine_volumes ORDER BY name').all();
    return rows.map((row) => this.toRecord(row)).filter((v) => matches(v, filters));
  }

  /** The volumes a container uses (for `rm -v`: its anonymous ones go with it). */
  usedBy(containerId: string): VolumeRecord[] {
    return this.db
      .prepare(
        `SELECT v.* FROM engine_volumes v JOIN engine_container_volumes u ON u.volume_name = v.name
         WHERE u.container_id = ? ORDER BY v.name`,
      )
      .all(containerId)
      .map((row) => this.toRecord(row));
  }

  /** Records that `containerId` uses the volume, so it cannot be removed while it does. */
  use(containerId: string, name: string): void {
    inTransaction(this.db, () => this.link(containerId, name));
  }

  /** `create`, then `use` by the container, in one transaction: a crash never leaves a new volume its container does not name. */
  createFor(containerId: string, input: CreateVolume = {}): VolumeRecord {
    return inTransaction(this.db, () => {
      const volume = this.create(input);
      this.link(containerId, volume.name);
      return this.inspect(volume.name);
    });
  }

  private link(containerId: string, name: string): void {
    this.inspect(name);
    if (this.db.prepare('SELECT 1 FROM engine_containers WHERE id = ?').get(containerId) === undefined) {
      throw notFound('container_not_found', `container "${containerId}": not found`);
    }
    this.db.prepare('INSERT OR IGNORE INTO engine_container_volumes (container_id, volume_name) VALUES (?, ?)').run(containerId, name);
  }

  /** Removes a volume; one a container uses is refused unless `force`. */
  remove(name: string, options: { force?: boolean } = {}): void {
    checkVolumeName(name);
    inTransaction(this.db, () => {
      const record = this.find(name);
      if (record === undefined) throw notFound('volume_not_found', `volume "${name}": not found`);
      if (record.usedBy.length > 0 && options.force !== true) {
        throw failedPrecondition(
          'volume_in_use',
          `volume "${name}": in use by container${record.usedBy.length > 1 ? 's' : ''} ${record.usedBy.map((id) => id.slice(0, 12)).join(', ')}`,
          { details: { name, containers: record.usedBy } },
        );
      }
      this.db.prepare('DELETE FROM engine_container_volumes WHERE volume_name = ?').run(name);
      this.db.prepare('DELETE FROM engine_volumes WHERE name = ?').run(name);
    });
    this.discard(name);
  }

  /** Removes unused volumes (anonymous ones only, unless `all`, as docker since 23.0); says which and how many bytes. */
  prune(options: { all?: boolean; label?: string[] } = {}): PruneResult {
    const result: PruneResult = { removed: [], spaceReclaimed: 0 };
    const candidates = this.list({ dangling: true, ...(options.label === undefined ? {} : { label: options.label }) });
    for (const volume of candidates) {
      if (!volume.anonymous && options.all !== true) continue;
      const size = sizeOrZero(volume.mountpoint);
      try {
        this.remove(volume.name);
      } catch (err) {
        // Taken into use since it was listed: not unused any more, so not pruned.
        if (isBerthError(err, 'volume_in_use')) continue;
        throw err;
      }
      result.removed.push(volume.name);
      result.spaceReclaimed += size;
    }
    return result;
  }

  /**
   * After a crash: removes half-removed trash and the directories of
   * anonymous volumes that have no record, and adopts named ones. A
   * directory that cannot be adopted safely (a symlink planted as its
   * `_data`) is left alone and reported, so one bad entry does not stop the
   * daemon from starting.
   */
  recover(): { adopted: string[]; removed: string[]; refused: { name: string; error: BerthError }[] } {
    const result: ReturnType<VolumeStore['recover']> = { adopted: [], removed: [], refused: [] };
    for (const entry of readdirSync(volumesDir(this.root), { withFileTypes: true })) {
      if (entry.name.startsWith(TRASH)) {
        rmSync(join(volumesDir(this.root), entry.name), { recursive: true, force: true });
      } else if (entry.isDirectory() && isValidName(entry.name) && this.find(entry.name) === undefined) {
        if (ANONYMOUS.test(entry.name)) {
          this.discard(entry.name);
          result.removed.push(entry.name);
          continue;
        }
        try {
          this.make(entry.name, false, {});
          result.adopted.push(entry.name);
        } catch (err) {
          if (!isBerthError(err, 'volume_path_unsafe')) throw err;
          result.refused.push({ name: entry.name, error: err });
        }
      }
    }
    return result;
  }

  /** The directories, then the record (INSERT OR IGNORE: a concurrent create of the same name is the same volume). */
  private make(name: string, anonymous: boolean, labels: Record<string, string>): VolumeRecord {
    const { data } = this.makeDirectories(name);
    this.db
      .prepare('INSERT OR IGNORE INTO engine_volumes (name, driver, mountpoint, labels, anonymous, created_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(name, 'local', data, JSON.stringify(labels), anonymous ? 1 : 0, new Date().toISOString());
    return this.inspect(name);
  }

  private find(name: string): VolumeRecord | undefined {
    const row = this.db.prepare('SELECT * FROM engine_volumes WHERE name = ?').get(name);
    return row === undefined ? undefined : this.toRecord(row);
  }

  private makeDirectories(name: string): { dir: string; data: string } {
    const paths = volumePaths(this.root, name);
    for (const [path, mode] of [
      [paths.dir, 0o755],
      [paths.data, 0o755],
    ] as const) {
      try {
        mkdirSync(path, { mode });
        chmodSync(path, mode);
      } catch (err) {
        if (errnoCode(err) !== 'EEXIST') throw err;
        mustBeDirectory(path);
      }
    }
    return paths;
  }

  /** Renames the directory away first (atomic), so a crash while deleting leaves trash, not a half volume. */
  private discard(name: string): void {
    const { dir } = volumePaths(this.root, name);
    const trash = join(volumesDir(this.root), `${TRASH}${newVolumeName()}`);
    try {
      renameSync(dir, trash);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return;
      throw err;
    }
    rmSync(trash, { recursive: true, force: true });
  }

  private toRecord(row: Record<string, unknown>): VolumeRecord {
    const name = storedString(row['name'], 'engine volume');
    const what = `engine volume ${name}`;
    const users = this.db.prepare('SELECT container_id FROM engine_container_volumes WHERE volume_name = ? ORDER BY container_id').all(name);
    return {
      name,
      driver: 'local',
      mountpoint: storedString(row['mountpoint'], `${what} mountpoint`),
      labels: parseStoredLabels(row['labels'], `${what} labels`),
      anonymous: storedInt(row['anonymous'], `${what} anonymous`) !== 0,
      createdAt: storedString(row['created_at'], `${what} created`),
      usedBy: users.map((u) => storedString(u['container_id'], `${what} user`)),
    };
  }
}

/** A symlink or file where the engine expects its own directory is refused, never followed. */
function mustBeDirectory(path: string): void {
  const st = lstatSync(path);
  if (!st.isDirectory()) {
    throw failedPrecondition('volume_path_unsafe', `volume path "${path}": not a directory (${st.isSymbolicLink() ? 'a symlink' : 'another file type'}), refusing to use it`);
  }
}

function matches(volume: VolumeRecord, filters: VolumeFilters): boolean {
  if (filters.name !== undefined && !filters.name.some((n) => volume.name.includes(n))) return false;
  if (filters.dangling !== undefined && (volume.usedBy.length === 0) !== filters.dangling) return false;
  for (const label of filters.label ?? []) {
    const eq = label.indexOf('=');
    const key = eq < 0 ? label : label.slice(0, eq);
    if (!(key in volume.labels)) return false;
    if (eq >= 0 && volume.labels[key] !== label.slice(eq + 1)) return false;
  }
  return true;
}

function sizeOrZero(path: string): number {
  try {
    return directorySize(path);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return 0;
    throw err;
  }
}
