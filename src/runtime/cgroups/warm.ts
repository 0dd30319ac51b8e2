/**
 * Joining a cgroup takes the kernel's cgroup_threadgroup_rwsem for writing;
 * when nobody has done so for a few milliseconds that first waits for an RCU
 * grace period (measured here: 5 to 20 ms on the container's own critical
 * path, for runc as for berth), after which joins cost microseconds for as
 * long as writers keep coming (cgroup2's favordynmods mount option keeps it
 * so for good). While a container is being set up, this process moves
 * itself, in the thread pool, into the cgroup it already is in, every few
 * milliseconds: the grace period passes while TypeScript and the executor
 * do their other work, and the container's own join finds the fast path.
 * Moving a process where it already is changes nothing; without the right
 * to write its own cgroup.procs (rootless) this does nothing.
 */
import { closeSync, openSync, write } from 'node:fs';
import { cgroupFsFor } from './fs.ts';
import { ownProcsFile, readLayout } from './paths.ts';

const INTERVAL_MS = 2;
/** Longer than any set-up: a forgotten stop ends by itself. */
const MAX_MS = 5_000;

/**
 * The own cgroup.procs last found, by what /proc/self/cgroup said then: a
 * resident process (berthd warms on every exec) need not read mountinfo
 * again, which costs milliseconds on a host with hundreds of mounts, while
 * it stays in the same cgroup.
 */
let found: { fsRoot: string | undefined; procCgroup: string; procs: string | undefined } | undefined;

function ownProcs(fsRoot: string | undefined): string | undefined {
  try {
    const fs = cgroupFsFor(fsRoot);
    const procCgroup = fs.readSync('/proc/self/cgroup');
    const last = found;
    if (last !== undefined && last.fsRoot === fsRoot && last.procCgroup === procCgroup) return last.procs;
    const own = ownProcsFile(readLayout(fs));
    const procs = own === undefined ? undefined : fs.hostPath(own);
    found = { fsRoot, procCgroup, procs };
    return procs;
  } catch {
    return undefined;
  }
}

/** Starts warming; the function returned stops it. */
export function warmCgroupJoin(fsRoot?: string): () => void {
  let stopped = false;
  const procs = ownProcs(fsRoot);
  if (procs === undefined) return () => undefined;
  const deadline = Date.now() + MAX_MS;
  const zero = Buffer.from('0');
  // Opened here and now, so the first write (the one that waits out the grace period) starts at once.
  let fd: number;
  try {
    fd = openSync(procs, 'w');
  } catch {
    return () => undefined;
  }
  // Closed as soon as it stops: at once between writes, else when the write in flight returns.
  let writing = false;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  const finish = (): void => {
    if (!closed) {
      closed = true;
      closeSync(fd);
    }
  };
  const again = (): void => {
    timer = undefined;
    if (stopped || Date.now() > deadline) {
      finish();
      return;
    }
    writing = true;
    write(fd, zero, 0, 1, null, (writeErr) => {
      writing = false;
      if (writeErr || stopped) {
        finish();
        return;
      }
      timer = setTimeout(again, INTERVAL_MS).unref();
    });
  };
  again();
  return () => {
    stopped = true;
    if (timer !== undefined) clearTimeout(timer);
    if (!writing) finish();
  };
}
