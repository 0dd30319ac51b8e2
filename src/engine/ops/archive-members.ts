/**
 * The tar members of a container file or tree for `GET /containers/{id}/archive`,
 * as dockerd writes them: the top entry named by the requested path's base
 * (children below it, directories ending in "/"), a file with several links
 * archived once and then as hard links to its first name, symlinks as
 * symlinks (never followed below the top), sockets left out, owners as
 * numbers without names (no lookup in the container's /etc/passwd or its
 * NSS libraries: CVE-2019-14271 was dockerd loading those), and
 * `security.capability` kept as docker keeps it. Mounts inside the tree are
 * crossed as the container sees them. Every file is read through the fd the
 * walk opened and checked, so a swapped name cannot make it read another.
 */
import { createReadStream, readSync } from 'node:fs';
import * as sys from '../../sys/index.ts';
import { errnoCode } from '../../errors.ts';
import type { TarEntryType, TarMember } from '../../image/tar/writer.ts';
import type { Child, ContainerFs } from './container-fs.ts';

function tarType(mode: number): TarEntryType | undefined {
  const type = sys.fileType(mode);
  return type === 'socket' ? undefined : type;
}

/** Opens a regular file the walk holds (O_PATH) for reading: its own /proc entry names exactly that inode. */
function reopen(fd: number): number {
  return sys.openat(sys.AT_FDCWD, `/proc/self/fd/${fd}`, sys.O_RDONLY | sys.O_NONBLOCK);
}

function capability(fd: number): Map<string, Buffer> | undefined {
  try {
    const cap = sys.fgetxattr(fd, 'security.capability');
    return cap === undefined ? undefined : new Map([['security.capability', cap]]);
  } catch (err) {
    if (errnoCode(err) === 'ENOTSUP') return undefined;
    throw err;
  }
}

/** Files up to this size are read at once (a stream per small file costs more than its bytes). */
const READ_AT_ONCE = 1 << 20;

/** A small file's bytes; a file that grew since its stat is cut at the size the header says. */
function readSmall(fd: number, size: number): Buffer {
  const buf = Buffer.allocUnsafe(size);
  let off = 0;
  while (off < size) {
    const n = readSync(fd, buf, off, size - off, null);
    if (n === 0) break;
    off += n;
  }
  return buf.subarray(0, off);
}

/**
 * Members for `node` (already resolved, held open by the caller) named
 * `name` ("" for the container's root: its children are then "/bin", ...,
 * as dockerd names them).
 */
export async function* archiveMembers(cfs: ContainerFs, node: Child, name: string): AsyncGenerator<TarMember> {
  const links = new Map<string, string>();
  async function* walk(child: Child, memberName: string): AsyncGenerator<TarMember> {
    const st = child.st;
    const type = tarType(st.mode);
    if (type === undefined) return;
    const isDir = type === 'dir';
    if (memberName !== '') {
      const header: TarMember['header'] = {
        name: isDir ? `${memberName}/` : memberName,
        type,
        mode: st.mode & 0o7777,
        uid: st.uid,
        gid: st.gid,
        mtime: st.mtime.sec,
      };
      if (type === 'symlink') header.linkname = sys.readlinkat(child.fd, '').toString('latin1');
      if (type === 'char' || type === 'block') {
        header.devmajor = st.rdevMajor;
        header.devminor = st.rdevMinor;
      }
      if (type === 'file') {
        const id = `${st.devMajor}:${st.devMinor}:${st.ino}`;
        const first = st.nlink > 1 ? links.get(id) : undefined;
        if (first !== undefined) {
          yield { header: { ...header, type: 'hardlink', linkname: first } };
          return;
        }
        if (st.nlink > 1) links.set(id, memberName);
        header.size = st.size;
        const fd = reopen(child.fd);
        let data: Buffer | undefined;
        try {
          header.xattrs = capability(fd);
          if (st.size <= READ_AT_ONCE) data = readSmall(fd, st.size);
        } finally {
          sys.close(fd);
        }
        // A large file is opened again when the writer asks for its bytes (the walk still holds child.fd then).
        const pathFd = child.fd;
        yield { header, data: data ?? (() => createReadStream('', { fd: reopen(pathFd), highWaterMark: READ_AT_ONCE, autoClose: true })) };
        return;
      }
      yield { header };
    }
    if (!isDir) return;
    const names = sys.listdirfd(child.fd).sort((a, b) => Buffer.compare(a, b));
    for (const raw of names) {
      const childName = raw.toString('latin1');
      const grandchild = cfs.openChild(child, childName);
      // Gone since the listing: a running container changes its files.
      if (grandchild === undefined) continue;
      try {
        yield* walk(grandchild, memberName === '' ? `/${childName}` : `${memberName}/${childName}`);
      } finally {
        grandchild.close();
      }
    }
  }
  yield* walk(node, name);
}
