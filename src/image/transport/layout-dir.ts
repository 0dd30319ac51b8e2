/**
 * Writing inside an OCI layout directory the user named, which may already
 * hold what someone else planted there. Every name below the directory is
 * resolved with openat2(RESOLVE_BENEATH), so a symlink (blobs -> /etc) may
 * lead elsewhere inside the layout but never out of it; files are written
 * to a fresh temp name (O_EXCL: never through a link) and renamed over the
 * final name, which replaces a planted link instead of writing through it.
 */
import { randomBytes } from 'node:crypto';
import { fsyncSync, writeSync } from 'node:fs';
import { posix } from 'node:path';
import * as sys from '../../sys/index.ts';
import { cleanupAfterSync, errnoCode } from '../../errors.ts';
import { BENEATH, escapeError } from './files.ts';

/** A file being written under a temp name; commit() renames it into place. */
export interface LayoutTempFile {
  write(b: Uint8Array): void;
  commit(): void;
  discard(): void;
}

export class LayoutDir {
  private readonly dir: string;
  private readonly label: string;

  constructor(dir: string, label: string) {
    this.dir = dir;
    this.label = label;
  }

  /** Runs `fn` with the directory `rel` (relative, "" for the layout) open as an O_PATH fd. */
  private inDir<T>(rel: string, fn: (fd: number) => T): T {
    const root = sys.openat(sys.AT_FDCWD, this.dir, sys.O_PATH | sys.O_DIRECTORY);
    try {
      if (rel === '') return fn(root);
      let fd: number;
      try {
        fd = sys.openat2(root, rel, { flags: sys.O_PATH | sys.O_DIRECTORY, resolve: BENEATH });
      } catch (err) {
        throw escapeError(this.label, rel, err) ?? err;
      }
      try {
        return fn(fd);
      } finally {
        sys.close(fd);
      }
    } finally {
      sys.close(root);
    }
  }

  /** mkdir -p of `rel` below the layout, one component at a time, each resolved beneath it. */
  mkdirs(rel: string): void {
    const parts = rel.split('/');
    for (let i = 0; i < parts.length; i++) {
      this.inDir(parts.slice(0, i).join('/'), (fd) => {
        try {
          sys.mkdirat(fd, parts[i] ?? '', 0o755);
        } catch (err) {
          if (errnoCode(err) !== 'EEXIST') throw err;
        }
      });
    }
    // A name that existed may be a link: this refuses it when it leads out.
    this.inDir(rel, () => undefined);
  }

  /** Starts writing `rel`: a temp file beside it until commit(). */
  create(rel: string): LayoutTempFile {
    const dirRel = posix.dirname(rel) === '.' ? '' : posix.dirname(rel);
    const base = posix.basename(rel);
    const tmp = `${base}.tmp-${randomBytes(8).toString('hex')}`;
    const dirFd = this.inDir(dirRel, (fd) => sys.openat(fd, '.', sys.O_PATH | sys.O_DIRECTORY));
    let fd: number;
    try {
      fd = sys.openat(dirFd, tmp, sys.O_WRONLY | sys.O_CREAT | sys.O_EXCL | sys.O_NOFOLLOW, 0o644);
    } catch (err) {
      sys.close(dirFd);
      throw err;
    }
    let open = true;
    const finish = (): void => {
      if (!open) return;
      open = false;
      sys.close(fd);
      sys.close(dirFd);
    };
    return {
      write(b) {
        for (let n = 0; n < b.byteLength; ) n += writeSync(fd, b, n);
      },
      commit() {
        try {
          fsyncSync(fd);
          sys.renameat2(dirFd, tmp, dirFd, base);
        } catch (err) {
          cleanupAfterSync(err, () => sys.unlinkat(dirFd, tmp));
          throw err;
        } finally {
          finish();
        }
      },
      discard() {
        if (!open) return;
        try {
          sys.unlinkat(dirFd, tmp);
        } finally {
          finish();
        }
      },
    };
  }

  /** Writes `rel` whole, atomically. */
  writeFile(rel: string, data: string | Uint8Array): void {
    const f = this.create(rel);
    try {
      f.write(typeof data === 'string' ? Buffer.from(data) : data);
    } catch (err) {
      cleanupAfterSync(err, () => f.discard());
      throw err;
    }
    f.commit();
  }
}
