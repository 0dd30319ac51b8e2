/**
 * A RUN step's container: berth's runtime (the library of berth-runtime)
 * runs the command on the step's mounted snapshot, as root in the container
 * unless the image says USER, with the image's Env and WorkingDir, Docker's
 * default capabilities (only a bounding set for a non-root user, as Docker
 * does since 20.10), berth's default seccomp profile (as buildah and Docker
 * filter RUN), no network (a network namespace of its own with
 * nothing in it: builds are offline), and stdout/stderr handed to the
 * caller as they come. The runtime state lives under the build's own state
 * root, and the container is deleted whatever happens.
 *
 * The runtime creates mount points (/proc, /dev, /sys, ...) a root may lack;
 * those it created are removed again (and their parents' times restored) so
 * they do not end up in the step's layer.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import * as sys from '../../../sys/index.ts';
import { cleanupAfter, errnoCode } from '../../../errors.ts';
import { defaultSpec } from '../../../oci/default-spec.ts';
import type { Spec } from '../../../oci/runtime-spec.ts';
import { defaultSeccompProfile, DOCKER_CAPS } from '../../../runtime/seccomp/default-profile.ts';
import type { ExecUser } from '../../bundle/user.ts';
import { cbytes } from '../../unpack/entry.ts';
import { Rootfs } from '../../unpack/rootfs.ts';
import { relativeToRoot } from '../paths.ts';

export { DOCKER_CAPS };

export interface RunSpecInput {
  args: string[];
  env: string[];
  cwd: string;
  user: ExecUser;
  rootfs: string;
  hostname?: string;
}

/** The runtime config of a RUN step. */
export function runSpec(input: RunSpecInput): Spec {
  const spec = defaultSpec();
  const root = input.user.uid === 0;
  spec.process = {
    terminal: false,
    user: { uid: input.user.uid, gid: input.user.gid, ...(input.user.additionalGids.length > 0 ? { additionalGids: input.user.additionalGids } : {}) },
    args: input.args,
    env: input.env,
    cwd: input.cwd,
    capabilities: root
      ? { bounding: [...DOCKER_CAPS], effective: [...DOCKER_CAPS], permitted: [...DOCKER_CAPS] }
      : { bounding: [...DOCKER_CAPS] },
    noNewPrivileges: false,
  };
  spec.root = { path: input.rootfs, readonly: false };
  spec.linux = { ...spec.linux, seccomp: defaultSeccompProfile({ capabilities: DOCKER_CAPS }) };
  spec.hostname = input.hostname ?? 'berth-build';
  return spec;
}

export interface RunContainerOptions {
  /** The build's private runtime state root. */
  runtimeRoot: string;
  /** A directory of the step's own for config.json. */
  bundleDir: string;
  spec: Spec;
  onOutput?: (stream: 'stdout' | 'stderr', chunk: Buffer) => void;
  signal?: AbortSignal;
  /** Called once the container runs (a count of executions, for tests and progress). */
  onStart?: (id: string) => void;
}

interface CreatedPoint {
  path: string;
  /** The parent's times before, restored after the mount point goes. */
  parent: { path: string; atime: sys.Timespec; mtime: sys.Timespec } | undefined;
}

function parentOf(p: string): string {
  const i = p.lastIndexOf('/');
  return i === -1 ? '' : p.slice(0, i);
}

/** Mount destinations (and the working directory's ancestors) the root lacks, nearest the root first. */
function missingPoints(root: Rootfs, spec: Spec): CreatedPoint[] {
  const out: CreatedPoint[] = [];
  const seen = new Set<string>();
  const dests = (spec.mounts ?? []).map((m) => relativeToRoot(m.destination));
  for (const dest of dests) {
    const parts = dest.split('/');
    for (let n = 1; n <= parts.length; n++) {
      const p = parts.slice(0, n).join('/');
      if (p === '' || seen.has(p)) continue;
      seen.add(p);
      if (exists(root, p)) continue;
      const parentPath = parentOf(p);
      const parent = exists(root, parentPath) ? timesOf(root, parentPath) : undefined;
      out.push({ path: p, parent: parent === undefined ? undefined : { path: parentPath, ...parent } });
    }
  }
  return out;
}

function exists(root: Rootfs, rel: string): boolean {
  if (rel === '') return true;
  try {
    sys.close(root.openIn(rel, sys.O_PATH));
    return true;
  } catch (err) {
    if (['ENOENT', 'ENOTDIR', 'ELOOP'].includes(errnoCode(err) ?? '')) return false;
    throw err;
  }
}

function timesOf(root: Rootfs, rel: string): { atime: sys.Timespec; mtime: sys.Timespec } {
  const fd = rel === '' ? sys.openat(root.fd, '.', sys.O_RDONLY | sys.O_DIRECTORY) : root.openIn(rel, sys.O_RDONLY | sys.O_DIRECTORY);
  try {
    const st = sys.statx(fd, '', sys.AT_EMPTY_PATH);
    return { atime: st.atime, mtime: st.mtime };
  } finally {
    sys.close(fd);
  }
}

/** Removes the mount points the runtime made (deepest first) when they are still empty directories. */
function removePoints(root: Rootfs, points: CreatedPoint[]): void {
  for (const p of [...points].reverse()) {
    let dirfd: number;
    try {
      dirfd = p.path.includes('/') ? root.openIn(parentOf(p.path), sys.O_RDONLY | sys.O_DIRECTORY) : sys.openat(root.fd, '.', sys.O_RDONLY | sys.O_DIRECTORY);
    } catch {
      continue;
    }
    try {
      sys.unlinkat(dirfd, cbytes(p.path.slice(p.path.lastIndexOf('/') + 1)), sys.AT_REMOVEDIR);
      if (p.parent !== undefined) sys.utimensat(dirfd, null, p.parent.atime, p.parent.mtime);
    } catch {
      // Not empty (the step put something there) or gone: it stays as the step left it.
    } finally {
      sys.close(dirfd);
    }
  }
}

function pump(stream: Readable | null, name: 'stdout' | 'stderr', onOutput: RunContainerOptions['onOutput']): Promise<void> {
  if (stream === null) return Promise.resolve();
  return new Promise((resolve) => {
    stream.on('data', (chunk: Buffer) => onOutput?.(name, chunk));
    stream.once('close', () => resolve());
    stream.once('error', () => resolve());
  });
}

/** Runs the container to its end; returns its exit status (128+n for signal n). */
export async function runContainer(options: RunContainerOptions): Promise<number> {
  const [{ runtimeContext }, { create }, { start }, { deleteContainer }, { exitCode }] = await Promise.all([
    import('../../../runtime/lifecycle/context.ts'),
    import('../../../runtime/lifecycle/create.ts'),
    import('../../../runtime/lifecycle/start.ts'),
    import('../../../runtime/lifecycle/delete.ts'),
    import('../../../runtime/lifecycle/signals.ts'),
  ]);
  const spec = options.spec;
  const rootfs = spec.root?.path ?? '';
  writeFileSync(join(options.bundleDir, 'config.json'), JSON.stringify(spec));
  const ctx = runtimeContext(options.runtimeRoot);
  const id = `build-${process.pid}-${randomBytes(4).toString('hex')}`;
  using root = Rootfs.open(rootfs);
  root.dirFd(relativeToRoot(spec.process?.cwd ?? '/'), true);
  root.invalidate();
  root.release();
  const points = missingPoints(root, spec);
  let created: Awaited<ReturnType<typeof create>> | undefined;
  const kill = (): void => {
    if (created === undefined) return;
    try {
      process.kill(created.pid, 'SIGKILL');
    } catch {
      // Gone already.
    }
  };
  let failure: { err: unknown } | undefined;
  try {
    options.signal?.throwIfAborted();
    created = await create(ctx, id, { bundle: options.bundleDir, wait: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const { stdout, stderr } = created.execution;
    const output = Promise.all([pump(stdout, 'stdout', options.onOutput), pump(stderr, 'stderr', options.onOutput)]);
    options.signal?.addEventListener('abort', kill, { once: true });
    // An abort while create ran fired before the listener was there: the container must not start.
    options.signal?.throwIfAborted();
    await start(ctx, id);
    options.onStart?.(id);
    const status = await created.execution.exited;
    await output;
    options.signal?.throwIfAborted();
    return exitCode(status);
  } catch (err) {
    failure = { err };
    kill();
    throw err;
  } finally {
    options.signal?.removeEventListener('abort', kill);
    // After a failure, a failed delete is reported with it (berth-runtime run does the same).
    if (failure !== undefined) await cleanupAfter(failure.err, () => deleteContainer(ctx, id, true));
    else await deleteContainer(ctx, id, true).catch(() => undefined);
    removePoints(root, points);
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return errnoCode(err) === 'EPERM';
  }
}

/** Force-deletes RUN containers whose build (the pid in their id) died; returns their ids. */
export async function cleanupStaleContainers(runtimeRoot: string): Promise<string[]> {
  if (!existsSync(runtimeRoot)) return [];
  const stale = readdirSync(runtimeRoot).filter((id) => {
    const pid = Number(/^build-(\d+)-/.exec(id)?.[1]);
    return Number.isInteger(pid) && pid > 0 && !pidAlive(pid);
  });
  if (stale.length === 0) return [];
  const [{ runtimeContext }, { deleteContainer }] = await Promise.all([import('../../../runtime/lifecycle/context.ts'), import('../../../runtime/lifecycle/delete.ts')]);
  const ctx = runtimeContext(runtimeRoot);
  for (const id of stale) await deleteContainer(ctx, id, true);
  return stale;
}
