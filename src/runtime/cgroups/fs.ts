/**
 * Every file operation of the cgroup library goes through `CgroupFs`, so the
 * policy (which file gets which value) runs unchanged against a fake
 * cgroupfs tree in unit tests.
 *
 * Two implementations:
 * - `HostCgroupFs`: the real cgroupfs. Control files are opened without
 *   O_CREAT (a missing file means a missing controller, never a new file),
 *   and each value is one write(2), as the kernel parses one write as one
 *   command.
 * - `TreeCgroupFs`: a directory laid out like a host (`proc/self/mountinfo`,
 *   `proc/self/cgroup`, `sys/fs/cgroup/...`) that behaves like cgroupfs
 *   where it matters for the policy: a new cgroup gets empty copies of its
 *   parent's control files, writes go only to existing files, rmdir removes
 *   the control files but refuses a cgroup with children, and every write is
 *   logged in order (`.writes`: "path\tvalue" lines) so a test can check the
 *   sequence (devices.allow, io.max) and not only the last value.
 */
import type { Dirent, MakeDirectoryOptions, RmOptions, Stats } from 'node:fs';
import type * as FsPromises from 'node:fs/promises';
import { closeSync, existsSync, mkdir as mkdirCb, openSync, readdirSync, readFileSync, rmdir as rmdirCb, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { DeviceEmulator, ruleString } from './devices/emulator.ts';

export interface CgroupFs {
  /** Reads a whole file (control file, /proc file). */
  read(path: string): Promise<string>;
  /** Reads a whole file at once: only for /proc/self files while computing paths. */
  readSync(path: string): string;
  /** One write(2) of `data` to an existing control file. */
  write(path: string, data: string): Promise<void>;
  /** mkdir; true when it created the directory, false when it existed. */
  mkdir(path: string): Promise<boolean>;
  /** rmdir of a cgroup directory (its control files go with it). */
  rmdir(path: string): Promise<void>;
  exists(path: string): Promise<boolean>;
  /** Names of the sub-directories (child cgroups) of a directory. */
  subdirs(path: string): Promise<string[]>;
  /** Names of the files in a directory (control files). */
  files(path: string): Promise<string[]>;
  /** The host path a process outside this interface would use (fs.watch). */
  hostPath(path: string): string;
}

/** node:fs/promises, loaded only by the fake tree (tests): the host path must not pay for it. */
const fsp = (): Promise<typeof FsPromises> => Promise.resolve(process.getBuiltinModule('node:fs/promises'));
const appendFile = async (path: string, data: string): Promise<void> => (await fsp()).appendFile(path, data);
const mkdir = async (path: string, options?: MakeDirectoryOptions): Promise<string | undefined> => (await fsp()).mkdir(path, options);
const readdir = async (path: string, options: { withFileTypes: true }): Promise<Dirent[]> => (await fsp()).readdir(path, options);
const readFile = async (path: string, encoding: 'utf8'): Promise<string> => (await fsp()).readFile(path, encoding);
const rm = async (path: string, options?: RmOptions): Promise<void> => (await fsp()).rm(path, options);
const stat = async (path: string): Promise<Stats> => (await fsp()).stat(path);
const writeFile = async (path: string, data: string): Promise<void> => (await fsp()).writeFile(path, data);

async function listEntries(path: string, wantDirs: boolean): Promise<string[]> {
  const entries = await readdir(path, { withFileTypes: true });
  return entries.filter((e) => (wantDirs ? e.isDirectory() : e.isFile())).map((e) => e.name);
}

/**
 * The real cgroupfs, through synchronous calls behind the async interface:
 * cgroupfs operations never block on a disk, and a container's set-up makes
 * ~100 of them, where a thread-pool round trip per call cost more than the
 * calls (19 ms against 4 ms for a create on this project's machine). mkdir
 * is the exception: it waits for cgroup_mutex, which a process joining a
 * cgroup holds across an RCU grace period (see warm.ts), so it goes to the
 * thread pool and the caller can go on meanwhile; so does rmdir (a
 * container's exit blocked berthd's event loop for the grace period of
 * another container's join otherwise).
 */
export class HostCgroupFs implements CgroupFs {
  // eslint-disable-next-line @typescript-eslint/require-await
  async read(path: string): Promise<string> {
    return readFileSync(path, 'utf8');
  }

  readSync(path: string): string {
    return readFileSync(path, 'utf8');
  }

  // eslint-disable-next-line @typescript-eslint/require-await
  async write(path: string, data: string): Promise<void> {
    const fd = openSync(path, 'r+');
    try {
      writeSync(fd, data, null, 'utf8');
    } finally {
      closeSync(fd);
    }
  }

  mkdir(path: string): Promise<boolean> {
    return new Promise((resolve, reject) => {
      mkdirCb(path, { mode: 0o755 }, (err) => {
        if (!err) resolve(true);
        else if (err.code === 'EEXIST') resolve(false);
        else reject(err);
      });
    });
  }

  /** In the thread pool, as mkdir: removing a cgroup waits for cgroup_mutex too. */
  rmdir(path: string): Promise<void> {
    return new Promise((resolve, reject) => rmdirCb(path, (err) => (err ? reject(err) : resolve())));
  }

  // eslint-disable-next-line @typescript-eslint/require-await
  async exists(path: string): Promise<boolean> {
    return existsSync(path);
  }

  // eslint-disable-next-line @typescript-eslint/require-await
  async subdirs(path: string): Promise<string[]> {
    return readdirSync(path, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
  }

  // eslint-disable-next-line @typescript-eslint/require-await
  async files(path: string): Promise<string[]> {
    return readdirSync(path, { withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => e.name);
  }

  hostPath(path: string): string {
    return path;
  }
}

/** Files a cgroup appends to rather than replaces when written (fake tree only). */
const APPENDING = new Set(['cgroup.procs', 'tasks', 'cgroup.threads']);

/** "+memory -cpu" applied to the enabled set, refusing, as the kernel does (ENOENT), a controller cgroup.controllers does not offer. */
async function applySubtreeControl(file: string, data: string): Promise<string> {
  const available = new Set((await readFile(join(dirname(file), 'cgroup.controllers'), 'utf8')).split(/\s+/).filter(Boolean));
  const enabled = new Set((await readFile(file, 'utf8')).split(/\s+/).filter(Boolean));
  for (const token of data.split(/\s+/).filter(Boolean)) {
    const name = token.slice(1);
    if (!available.has(name)) throw Object.assign(new Error(`ENOENT: controller "${name}" not available`), { code: 'ENOENT' });
    if (token.startsWith('+')) enabled.add(name);
    else enabled.delete(name);
  }
  return [...enabled].join(' ');
}

/** devices.allow/deny change devices.list as the kernel shows it: the allowed exceptions, or "a *:* rwm" when allowing all. */
async function applyDeviceRule(file: string, allow: boolean, data: string): Promise<void> {
  const list = join(dirname(file), 'devices.list');
  const emu = DeviceEmulator.fromList(await readFile(list, 'utf8'));
  const m = /^([abc]) (\d+|\*):(\d+|\*) ([rwm]+)$/.exec(data.trim());
  if (m === null) throw Object.assign(new Error(`EINVAL: ${data}`), { code: 'EINVAL' });
  const n = (v: string | undefined): number => (v === '*' || v === undefined ? -1 : Number(v));
  emu.apply({ type: m[1] as 'a' | 'b' | 'c', major: n(m[2]), minor: n(m[3]), access: m[4] ?? 'rwm', allow });
  const text = emu.defaultAllow ? 'a *:* rwm\n' : emu.rules().map((r) => `${ruleString(r)}\n`).join('');
  await writeFile(list, text);
}

export class TreeCgroupFs implements CgroupFs {
  readonly root: string;
  readonly log: string;

  constructor(root: string) {
    this.root = root;
    this.log = join(root, '.writes');
  }

  hostPath(path: string): string {
    return join(this.root, path);
  }

  read(path: string): Promise<string> {
    return readFile(this.hostPath(path), 'utf8');
  }

  readSync(path: string): string {
    return readFileSync(this.hostPath(path), 'utf8');
  }

  async write(path: string, data: string): Promise<void> {
    const real = this.hostPath(path);
    // Like cgroupfs: a control file that is not there cannot be written.
    const st = await stat(real);
    if (!st.isFile()) throw Object.assign(new Error(`EISDIR: ${path}`), { code: 'EISDIR' });
    await appendFile(this.log, `${path}\t${data}\n`);
    const name = basename(path);
    if (APPENDING.has(name)) await appendFile(real, `${data.trim()}\n`);
    else if (name === 'cgroup.subtree_control') await writeFile(real, await applySubtreeControl(real, data));
    else if (name === 'devices.allow' || name === 'devices.deny') await applyDeviceRule(real, name === 'devices.allow', data);
    else await writeFile(real, data);
  }

  async mkdir(path: string): Promise<boolean> {
    const real = this.hostPath(path);
    try {
      await mkdir(real, { mode: 0o755 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw err;
    }
    // A new cgroup has the control files of its parent, empty, except what the kernel hands down.
    const parent = dirname(real);
    for (const name of await listEntries(parent, false)) {
      let content = '';
      if (name === 'devices.list') content = await readFile(join(parent, name), 'utf8');
      if (name === 'cgroup.controllers') content = await readFile(join(parent, 'cgroup.subtree_control'), 'utf8').catch(() => '');
      await writeFile(join(real, name), content);
    }
    return true;
  }

  async rmdir(path: string): Promise<void> {
    const real = this.hostPath(path);
    if ((await listEntries(real, true)).length > 0) {
      throw Object.assign(new Error(`ENOTEMPTY: directory not empty, rmdir '${path}'`), { code: 'ENOTEMPTY' });
    }
    const procs = await readFile(join(real, 'cgroup.procs'), 'utf8').catch(() => '');
    if (procs.trim() !== '') throw Object.assign(new Error(`EBUSY: resource busy, rmdir '${path}'`), { code: 'EBUSY' });
    await rm(real, { recursive: true });
  }

  async exists(path: string): Promise<boolean> {
    try {
      await stat(this.hostPath(path));
      return true;
    } catch {
      return false;
    }
  }

  subdirs(path: string): Promise<string[]> {
    return listEntries(this.hostPath(path), true);
  }

  files(path: string): Promise<string[]> {
    return listEntries(this.hostPath(path), false);
  }
}

export function cgroupFsFor(fsRoot: string | undefined): CgroupFs {
  return fsRoot === undefined || fsRoot === '/' ? new HostCgroupFs() : new TreeCgroupFs(fsRoot);
}
