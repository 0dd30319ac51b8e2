/**
 * HOME for a process given none: the home directory of its uid in the
 * container's /etc/passwd, "/" when it has none (runc's rule). TypeScript
 * looks it up while it computes the plan, so the executor only execs the
 * environment it is given and parses nothing.
 *
 * The container's /etc/passwd is the rootfs's, or what a bind mount of the
 * spec puts on /etc/passwd or /etc. It is read from the host side, resolved
 * inside its root as the kernel would resolve it in the container
 * (symlinks re-rooted, ".." stopping at the root), and the file opened must
 * be the very file resolved (its /proc/self/fd link names that path): a
 * symlink that a running container swaps in meanwhile never makes this read
 * a file of the host. No FFI (src/sys/in-root.ts, the openat2 resolver,
 * needs koffi, ~30 ms to load): this runs on every create and exec.
 */
import { closeSync, constants, fstatSync, lstatSync, openSync, readFileSync, readlinkSync, realpathSync } from 'node:fs';
import { join, posix } from 'node:path';
import type { Mount, Process } from '../../oci/runtime-spec.ts';
import { parsePasswd } from '../linux/passwd.ts';

const MAX_LINKS = 40;
/** Far above any real passwd; a bigger file is no passwd. */
const MAX_PASSWD_BYTES = 4 * 1024 * 1024;

/** `path` resolved inside `root` (a real path) with no symlink left in it; undefined where it leads nowhere. */
export function resolveInRoot(root: string, path: string): string | undefined {
  const pending = path.split('/');
  const done: string[] = [];
  let links = 0;
  for (let name = pending.shift(); name !== undefined; name = pending.shift()) {
    if (name === '' || name === '.') continue;
    if (name === '..') {
      done.pop();
      continue;
    }
    const at = join(root, ...done, name);
    let isLink: boolean;
    try {
      isLink = lstatSync(at).isSymbolicLink();
    } catch {
      return undefined;
    }
    if (!isLink) {
      done.push(name);
      continue;
    }
    if (++links > MAX_LINKS) return undefined;
    const target = readlinkSync(at, 'utf8');
    if (target.startsWith('/')) done.length = 0;
    pending.unshift(...target.split('/'));
  }
  return join(root, ...done);
}

/** The regular file at `path` inside `root`, as text; undefined when there is none. */
export function readFileInRoot(root: string, path: string): string | undefined {
  let resolved: string | undefined;
  try {
    resolved = resolveInRoot(realpathSync(root), path);
  } catch {
    return undefined;
  }
  if (resolved === undefined) return undefined;
  let fd: number;
  try {
    // Non-blocking: a FIFO planted there must not hang the start.
    fd = openSync(resolved, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch {
    return undefined;
  }
  try {
    const st = fstatSync(fd);
    if (readlinkSync(`/proc/self/fd/${fd}`) !== resolved || !st.isFile() || st.size > MAX_PASSWD_BYTES) return undefined;
    return readFileSync(fd, 'utf8');
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

const clean = (path: string): string => posix.normalize(posix.join('/', path)).replace(/(.)\/+$/, '$1');

/** The container's /etc/passwd: the rootfs's, unless the last mount of the spec on it or on /etc says otherwise. */
function readPasswd(rootfs: string, bundle: string, mounts: readonly Mount[]): string | undefined {
  const covering = mounts.filter((m) => ['/etc', '/etc/passwd'].includes(clean(m.destination))).at(-1);
  if (!covering) return readFileInRoot(rootfs, '/etc/passwd');
  const bind = covering.type === 'bind' || (covering.options ?? []).some((o) => o === 'bind' || o === 'rbind');
  if (!bind || !covering.source) return undefined;
  const source = posix.resolve(bundle, covering.source);
  return clean(covering.destination) === '/etc/passwd'
    ? readFileInRoot(posix.dirname(source), posix.basename(source))
    : readFileInRoot(source, 'passwd');
}

/** `process` with HOME added to its environment when it has none; `bundle` is where relative mount sources are. */
export function withHome(process: Process, rootfs: string, bundle: string, mounts: readonly Mount[] = []): Process {
  const env = process.env ?? [];
  if (env.some((e) => e.startsWith('HOME='))) return process;
  const text = readPasswd(rootfs, bundle, mounts);
  const home = (text === undefined ? undefined : parsePasswd(text).find((e) => e.uid === process.user.uid)?.home) || '/';
  return { ...process, env: [...env, `HOME=${home}`] };
}
