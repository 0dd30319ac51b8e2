/**
 * A container's file system as its processes see it, reached from the host
 * without ever following a path string: the rootfs with the bind mounts and
 * volumes over it (the `view`), walked one component at a time.
 *
 *   using cfs = ContainerFs.open({ rootfs, mounts, readonlyRootfs });
 *   using node = cfs.resolve('/etc/passwd', { followLast: true });
 *   node.fd  // O_PATH fd of what the container sees there
 *
 * Why not openat2 RESOLVE_IN_ROOT alone: on the host, the rootfs directory
 * does not hold the container's bind mounts (they live in its mount
 * namespace), so a path through a mount target must switch to the mount's
 * source, and a symlink in a volume pointing at `/etc` must land in the
 * container's /etc, not the volume's. So each component is opened with
 * openat(O_PATH | O_NOFOLLOW) relative to the directory fd already held; a
 * symlink is read from the fd of the link itself (readlinkat with ""), and
 * its target is walked again from the container's root (absolute) or from
 * the directory held (relative); `..` pops the stack of held fds and never
 * goes above the container's root. Nothing is resolved twice, so a process
 * in the container that swaps a directory for a symlink between two steps
 * (CVE-2018-15664) changes only which container file is reached, never
 * reaches the host. No /proc magic link is followed: each open names one
 * plain component.
 *
 * Mount targets are resolved once, when the view is opened, over the
 * rootfs and the mounts before them (as the runtime mounted them), so a
 * target given as /var/run/x matches the walk's /run/x.
 */
import * as sys from '../../sys/index.ts';
import { errnoCode, invalidArgument, notFound } from '../../errors.ts';
import { cbytes, displayName } from '../../image/unpack/entry.ts';

export interface ContainerMount {
  /** Where the container sees it (absolute container path). */
  target: string;
  /** The host path of the bind mount's or volume's data (trusted: the engine's own record). */
  source: string;
  readonly: boolean;
}

export interface ContainerView {
  /** The host directory of the container's root file system (its mounted snapshot). */
  rootfs: string;
  /** Bind mounts and volumes, in the order they were mounted. */
  mounts: ContainerMount[];
  /** --read-only: nothing outside a writable mount may be written. */
  readonlyRootfs?: boolean;
}

/** A file the walk opened. */
export interface Child {
  /** O_PATH fd of the file itself (a symlink is its own file when not followed). */
  fd: number;
  /** The path with every symlink resolved, as the container sees it ("/" for the root). */
  path: string;
  st: sys.Statx;
  /** The mount it is on (undefined: the rootfs). */
  mount: ContainerMount | undefined;
  close(): void;
  [Symbol.dispose](): void;
}

/** What a container path resolved to. Close it (or `using`) when done. */
export interface Node extends Child {
  /** Last component as the container names it ("/" for the root). */
  name: string;
  /** Writing here is refused: a read-only mount, or the rootfs of a --read-only container. */
  readonly: boolean;
}

const MAX_SYMLINKS = 40;

interface Held {
  fd: number;
  name: string;
  mount: ContainerMount | undefined;
  /** A mount's fd belongs to the ContainerFs, not to this walk. */
  borrowed: boolean;
}

interface OpenMount {
  mount: ContainerMount;
  fd: number;
  /** The target with symlinks resolved in the view beneath it. */
  path: string;
}

/** Components of a container path; "" and "." dropped. */
export function splitPath(path: string): string[] {
  return path.split('/').filter((p) => p !== '' && p !== '.');
}

function held(fd: number, path: string, st: sys.Statx, mount: ContainerMount | undefined): Child {
  const close = (): void => sys.close(fd);
  return { fd, path, st, mount, close, [Symbol.dispose]: close };
}

function joinPath(parent: string, name: string): string {
  return parent === '/' ? `/${name}` : `${parent}/${name}`;
}

export class ContainerFs implements Disposable {
  readonly view: ContainerView;
  private readonly rootFd: number;
  private readonly mounts: OpenMount[] = [];

  private constructor(view: ContainerView, rootFd: number) {
    this.view = view;
    this.rootFd = rootFd;
  }

  static open(view: ContainerView): ContainerFs {
    const cfs = new ContainerFs(view, sys.openat(sys.AT_FDCWD, view.rootfs, sys.O_PATH | sys.O_DIRECTORY));
    try {
      for (const mount of view.mounts) {
        if (!mount.target.startsWith('/')) throw invalidArgument('cp_view_invalid', `container view: mount target "${mount.target}" is not absolute`);
        const path = cfs.canonical(mount.target);
        cfs.mounts.push({ mount, path, fd: sys.openat(sys.AT_FDCWD, mount.source, sys.O_PATH) });
      }
    } catch (err) {
      cfs.close();
      throw err;
    }
    return cfs;
  }

  /**
   * The container path with its existing part resolved (symlinks followed)
   * and the rest appended as written: where a mount over `path` lands.
   */
  canonical(path: string): string {
    const parts = splitPath(path);
    for (let n = parts.length; n > 0; n--) {
      let node: Node;
      try {
        node = this.resolve(`/${parts.slice(0, n).join('/')}`, { followLast: true });
      } catch (err) {
        if (err instanceof Error && 'code' in err && (err.code === 'cp_path_not_found' || err.code === 'cp_not_a_directory')) continue;
        throw err;
      }
      node.close();
      return parts.slice(n).reduce(joinPath, node.path);
    }
    return parts.reduce(joinPath, '/');
  }

  /** The mount whose target is exactly `path` (the last one wins: later mounts cover earlier ones). */
  private mountAt(path: string): OpenMount | undefined {
    for (let i = this.mounts.length - 1; i >= 0; i--) {
      const m = this.mounts[i];
      if (m !== undefined && m.path === path) return m;
    }
    return undefined;
  }

  /**
   * Opens a child of a directory the walk holds, as the container sees it:
   * the mount's source when a mount covers it. Undefined when nothing is there.
   */
  openChild(parent: { fd: number; path: string; mount: ContainerMount | undefined }, name: string): Child | undefined {
    const path = joinPath(parent.path, name);
    const m = this.mountAt(path);
    let fd: number;
    try {
      fd = m !== undefined ? sys.openat(m.fd, '.', sys.O_PATH) : sys.openat(parent.fd, cbytes(name), sys.O_PATH | sys.O_NOFOLLOW);
    } catch (err) {
      // openat of "." fails on a mount of a file: the source's fd is reopened through its own /proc entry (our fd, no container path).
      if (m !== undefined && errnoCode(err) === 'ENOTDIR') fd = sys.openat(sys.AT_FDCWD, `/proc/self/fd/${m.fd}`, sys.O_PATH);
      else if (errnoCode(err) === 'ENOENT') return undefined;
      else throw err;
    }
    const st = sys.statx(fd, '', sys.AT_EMPTY_PATH | sys.AT_SYMLINK_NOFOLLOW);
    return held(fd, path, st, m?.mount ?? parent.mount);
  }

  /**
   * Resolves a container path (absolute or not, taken from the root). With
   * `followLast`, a symlink in the last place is followed too (as `cp`'s
   * destination and `path/.` are); never for what is archived as a link.
   */
  resolve(path: string, opts: { followLast: boolean }): Node {
    if (path.includes('\0')) throw invalidArgument('cp_path_invalid', `container path ${JSON.stringify(path)}: contains a NUL byte`);
    const stack: Held[] = [{ fd: this.rootFd, name: '/', mount: undefined, borrowed: true }];
    const release = (h: Held): void => {
      if (!h.borrowed) sys.close(h.fd);
    };
    const current = (): string => (stack.length === 1 ? '/' : `/${stack.slice(1).map((h) => h.name).join('/')}`);
    const rest = splitPath(path);
    let links = 0;
    let last: Child | undefined;
    try {
      while (rest.length > 0) {
        const name = rest.shift() ?? '';
        if (name === '..') {
          const top = stack.length > 1 ? stack.pop() : undefined;
          if (top !== undefined) release(top);
          continue;
        }
        const top = stack.at(-1) as Held;
        const child = this.openChild({ fd: top.fd, path: current(), mount: top.mount }, name);
        if (child === undefined) throw notFound('cp_path_not_found', `container path "${displayName(path)}": no such file or directory`);
        const type = child.st.mode & sys.S_IFMT;
        if (type === sys.S_IFLNK && (rest.length > 0 || opts.followLast)) {
          let target: Buffer;
          try {
            target = sys.readlinkat(child.fd, '');
          } finally {
            child.close();
          }
          if (++links > MAX_SYMLINKS) throw invalidArgument('cp_symlink_loop', `container path "${displayName(path)}": too many levels of symbolic links`);
          const text = target.toString('latin1');
          if (text.startsWith('/')) while (stack.length > 1) release(stack.pop() as Held);
          rest.unshift(...splitPath(text));
          continue;
        }
        if (rest.length > 0 && type !== sys.S_IFDIR) {
          child.close();
          throw invalidArgument('cp_not_a_directory', `container path "${displayName(path)}": "${displayName(child.path)}" is not a directory`);
        }
        if (rest.length === 0) {
          last = child;
          break;
        }
        stack.push({ fd: child.fd, name, mount: child.mount, borrowed: false });
      }
      if (last === undefined) {
        // The path named a directory the walk already holds (the root, or after "..").
        const top = stack.at(-1) as Held;
        const fd = sys.openat(top.fd, '.', sys.O_PATH);
        last = held(fd, current(), sys.statx(fd, '', sys.AT_EMPTY_PATH), top.mount);
      }
    } finally {
      for (const h of stack) release(h);
    }
    return this.toNode(last);
  }

  private toNode(child: Child): Node {
    const name = child.path === '/' ? '/' : child.path.slice(child.path.lastIndexOf('/') + 1);
    const readonly = child.mount !== undefined ? child.mount.readonly : this.view.readonlyRootfs === true;
    return { ...child, name, readonly };
  }

  /** One step down from a directory the caller holds (a symlink there is returned as itself); undefined when nothing is there. */
  step(parent: Node, name: string): Node | undefined {
    const child = this.openChild(parent, name);
    return child === undefined ? undefined : this.toNode(child);
  }

  /** A second fd on what `node` holds (closed on its own). */
  reopen(node: Node): Node {
    const fd = sys.openat(node.fd, '.', sys.O_PATH);
    return this.toNode(held(fd, node.path, node.st, node.mount));
  }

  close(): void {
    for (const m of this.mounts) sys.close(m.fd);
    this.mounts.length = 0;
    sys.close(this.rootFd);
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
