/**
 * The Cgroup of one container on cgroupfs (v1, v2 or hybrid): creating its
 * directories with the resources applied, joining processes, freezing,
 * statistics and removal. Built from a spec (openCgroup) or from the paths
 * kept in state.json (cgroupFromPaths).
 */
import { posix } from 'node:path';
import type { LinuxResources } from '../../oci/runtime-spec.ts';
import { cleanupAfter, describeError, errnoCode, failedPrecondition, invalidArgument, isBerthError } from '../../errors.ts';
import { freeze, freezerState, thaw, type FreezerTarget } from './freezer.ts';
import { cgroupFsFor, type CgroupFs } from './fs.ts';
import { parseCgroupMounts, v2Mount } from './mountinfo.ts';
import { statsV1, statsV2 } from './stats.ts';
import { EBUSY_DEADLINE_MS, enableControllers, initCpuset, makeDirs, removeCreated, removeTree } from './tree.ts';
import type { Cgroup, CgroupOptions, CgroupPaths, CgroupStats, DeviceProgramAttacher } from './types.ts';
import { applyV1 } from './v1-resources.ts';
import { applyV2 } from './v2-resources.ts';
import { validateResources } from './validate.ts';
import { cgroupIoError, readOptional } from './write.ts';

const PERMISSION_CODES = new Set(['EACCES', 'EPERM', 'EROFS']);

function isPermissionError(err: unknown): boolean {
  const code = isBerthError(err) ? err.details['errno'] : errnoCode(err);
  return typeof code === 'string' && PERMISSION_CODES.has(code);
}

export class CgroupfsCgroup implements Cgroup {
  readonly paths: CgroupPaths;
  readonly warnings: string[] = [];
  private readonly skipped = new Set<string>();
  private readonly fs: CgroupFs;
  private readonly resources: LinuxResources | undefined;
  private readonly rootless: boolean;
  private readonly attachDevices: DeviceProgramAttacher | undefined;

  constructor(paths: CgroupPaths, options: CgroupOptions & { resources?: LinuxResources | undefined; rootless?: boolean | undefined }) {
    this.paths = paths;
    this.fs = cgroupFsFor(options.fsRoot);
    this.resources = options.resources;
    this.rootless = options.rootless ?? false;
    this.attachDevices = options.attachDevices;
    if (this.resources !== undefined) validateResources(this.resources);
  }

  /** Each directory once (v1 hierarchies mounted together share one). */
  private uniqueDirs(): string[] {
    return [...new Set(Object.values(this.paths.dirs))];
  }

  /** The directory where the resources of v2 go: the unified one on v2 only. */
  private v2Dir(): string | undefined {
    return this.paths.mode === 'v2' ? this.paths.dirs['unified'] : undefined;
  }

  async create(): Promise<void> {
    // Controllers mounted together share a directory; each directory is made once, all of them
    // at the same time (each mkdir may wait for cgroup_mutex, see fs.ts).
    const byDir = new Map<string, string[]>();
    for (const [controller, dir] of Object.entries(this.paths.dirs)) byDir.set(dir, [...(byDir.get(dir) ?? []), controller]);
    const created: string[] = [];
    const made = await Promise.allSettled([...byDir].map(([dir, controllers]) => this.makeDir(dir, controllers, created)));
    try {
      for (const r of made) if (r.status === 'rejected') throw r.reason;
      if (this.resources !== undefined) await this.apply(this.resources);
    } catch (err) {
      await cleanupAfter(err, () => removeCreated(this.fs, created));
      throw err;
    }
  }

  /** One directory with its parents (and a new cpuset's cpus and mems); rootless, one it cannot make drops out. */
  private async makeDir(dir: string, controllers: string[], created: string[]): Promise<void> {
    let made: string[];
    try {
      const v2 = controllers.includes('unified') && this.paths.mode === 'v2';
      const top = v2 ? this.v2MountPoint(dir) : undefined;
      made = await makeDirs(this.fs, dir, top === undefined ? undefined : { top, run: (parent) => enableControllers(this.fs, parent) });
    } catch (err) {
      if (!(this.rootless && isPermissionError(err))) throw err;
      for (const controller of controllers) {
        this.warnings.push(`cgroup: ${dir} cannot be created (rootless): ${controller} is not managed`);
        delete this.paths.dirs[controller];
        this.skipped.add(controller);
      }
      return;
    }
    created.push(...made);
    if (controllers.includes('cpuset')) await initCpuset(this.fs, made);
  }

  private v2MountPoint(dir: string): string {
    const mount = v2Mount(parseCgroupMounts(this.fs.readSync('/proc/self/mountinfo')));
    if (mount === undefined || !dir.startsWith(`${mount.mountPoint}/`)) {
      throw failedPrecondition('cgroup_not_under_mount', `cgroup: ${dir} is not under a mounted cgroup2 file system`);
    }
    return mount.mountPoint;
  }

  private async apply(resources: LinuxResources): Promise<void> {
    const v2 = this.v2Dir();
    if (v2 !== undefined) {
      await applyV2({ fs: this.fs, dir: v2, warnings: this.warnings, attachDevices: this.attachDevices }, resources);
    } else {
      await applyV1({ fs: this.fs, dirs: this.paths.dirs, warnings: this.warnings, skipped: this.skipped }, resources);
    }
  }

  async addProcess(pid: number): Promise<void> {
    if (!Number.isInteger(pid) || pid <= 0) throw invalidArgument('cgroup_pid_invalid', `cgroup: pid ${pid} is not a process id`);
    for (const dir of this.uniqueDirs()) {
      try {
        await this.fs.write(posix.join(dir, 'cgroup.procs'), String(pid));
      } catch (err) {
        if (this.rootless && isPermissionError(err)) {
          this.warnings.push(`cgroup: cannot join ${dir} (rootless)`);
          continue;
        }
        throw cgroupIoError(`add pid ${pid} to`, posix.join(dir, 'cgroup.procs'), err);
      }
    }
  }

  /** The directory whose cgroup.procs lists the container's processes. */
  private procsDir(): string | undefined {
    const d = this.paths.dirs;
    return d['unified'] !== undefined && this.paths.mode === 'v2' ? d['unified'] : (d['pids'] ?? d['freezer'] ?? d['memory'] ?? d['devices'] ?? Object.values(d)[0]);
  }

  async pids(): Promise<number[]> {
    const root = this.procsDir();
    if (root === undefined) return [];
    const found = new Set<number>();
    const walk = async (dir: string): Promise<void> => {
      const text = await readOptional(this.fs, dir, 'cgroup.procs');
      if (text === undefined) return;
      for (const line of text.split('\n')) if (line.trim() !== '') found.add(Number(line));
      for (const child of await this.fs.subdirs(dir).catch(() => [])) await walk(posix.join(dir, child));
    };
    await walk(root);
    return [...found].sort((a, b) => a - b);
  }

  private freezer(): FreezerTarget {
    const v1 = this.paths.dirs['freezer'];
    if (v1 !== undefined && this.paths.mode !== 'v2') return { fs: this.fs, dir: v1, version: 1 };
    const v2 = this.paths.dirs['unified'];
    if (v2 !== undefined) return { fs: this.fs, dir: v2, version: 2 };
    throw failedPrecondition('cgroup_no_freezer', 'cgroup: no freezer: the v1 freezer controller is not mounted and there is no cgroup2 directory');
  }

  freeze(): Promise<void> {
    return freeze(this.freezer());
  }

  thaw(): Promise<void> {
    return thaw(this.freezer());
  }

  state(): Promise<'frozen' | 'thawed'> {
    return freezerState(this.freezer());
  }

  async update(resources: LinuxResources): Promise<void> {
    validateResources(resources);
    await this.apply(resources);
  }

  stats(): Promise<CgroupStats> {
    const v2 = this.v2Dir();
    return v2 !== undefined ? statsV2(this.fs, v2) : statsV1(this.fs, this.paths.dirs);
  }

  async destroy(): Promise<void> {
    // One deadline for all hierarchies: a process that stays makes every one busy. All at once (each rmdir waits
    // for cgroup_mutex in the thread pool, see fs.ts).
    const deadline = Date.now() + EBUSY_DEADLINE_MS;
    const removed = await Promise.allSettled(this.uniqueDirs().map((dir) => removeTree(this.fs, dir, deadline)));
    const errors = removed.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) {
      throw failedPrecondition('cgroup_remove_failed', `cgroup: ${errors.length} directories could not be removed, first: ${describeError(errors[0])}`, { cause: errors[0], details: { errors } });
    }
  }
}
