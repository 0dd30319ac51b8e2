/**
 * The host of a Node.js process on its own: each executor is spawned from
 * build/berth-exec with its plan in an unlinked file and a socket for the
 * sync protocol; locks are flock(2) on lock files, through koffi (src/sys).
 */
import { spawn, type StdioOptions } from 'node:child_process';
import { closeSync, constants, fstatSync, openSync } from 'node:fs';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { errnoCode, internal } from '../../errors.ts';
import { buildDir } from '../../paths.ts';
import { warmCgroupJoin } from '../cgroups/warm.ts';
import { planFile, socketLink } from './link.ts';
import type { ExecutorLink, ExitStatus, LaunchRequest, LockRelease, RuntimeHost } from './host.ts';

/** The executor binary: next to the bundle, or in build/ of the repository. */
export function executorPath(): string {
  const env = process.env['BERTH_EXECUTOR'];
  if (env) return env;
  return join(buildDir(), 'berth-exec');
}

// eslint-disable-next-line @typescript-eslint/require-await -- the host interface is asynchronous
async function launch(request: LaunchRequest): Promise<ExecutorLink> {
  const base = request.stdio === 'inherit' ? (['inherit', 'inherit', 'inherit'] as const) : request.stdio;
  const stdio: StdioOptions = [...base];
  for (let fd = 3; fd < 3 + request.preserveFds; fd++) stdio.push(fd);
  stdio.push('pipe');
  const syncIndex = 3 + request.preserveFds;
  // The plan goes in an unlinked file the executor reads as soon as it starts, while spawn()
  // here is still busy: the executor need not wait for this process to answer first.
  const planFd = planFile(request.plan);
  stdio.push(planFd);
  let child;
  try {
    child = spawn(executorPath(), [String(syncIndex), String(syncIndex + 1)], { stdio, env: {} });
  } finally {
    closeSync(planFd);
  }
  const exited = new Promise<ExitStatus>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  const pid = new Promise<number>((resolve, reject) => {
    child.once('spawn', () => resolve(child.pid ?? -1));
    child.once('error', (err) => reject(internal('executor_spawn', `start the executor ${executorPath()}: ${err.message}`, { cause: err })));
  });
  pid.catch(() => undefined);
  const sock = child.stdio[syncIndex] as Socket | null;
  if (!sock) throw internal('executor_spawn', 'executor: no sync socket');
  return socketLink({ sock, pid, exited, stdout: child.stdout, stderr: child.stderr });
}

async function lockFile(path: string): Promise<LockRelease | 'busy' | 'missing'> {
  const { tryLockExclusive } = await import('../../sys/flock.ts');
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return 'missing';
    throw err;
  }
  try {
    // Removed while another held it (the container was deleted): what is there now is another file.
    if (!tryLockExclusive(fd) || fstatSync(fd).nlink === 0) {
      closeSync(fd);
      return 'busy';
    }
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  let released = false;
  return () => {
    if (!released) {
      released = true;
      closeSync(fd);
    }
    return Promise.resolve();
  };
}

export const spawnHost: RuntimeHost = { launch, lockFile, warmCgroupJoin };
