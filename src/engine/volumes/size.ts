/**
 * The space a directory's data takes, as `volume prune` and `system df`
 * report it: the bytes of its files, a file with several links counted
 * once, symlinks as their own size and never followed.
 *
 * A container writes into the trees measured here (its volumes, its
 * writable layer) while they are walked: it could swap a directory for a
 * symlink to the host's / between the walk's look and its descent. So each
 * directory is held by an fd and its children are named through the fd's
 * own /proc entry, one component at a time, opened with O_NOFOLLOW: a
 * swapped-in symlink is counted as a symlink, never walked (no koffi needed).
 */
import { closeSync, constants, lstatSync, openSync, readdirSync } from 'node:fs';
import { errnoCode } from '../../errors.ts';

const DIR_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;

/** Gone, or no longer a directory, since the listing: a live tree changes. */
const vanished = (err: unknown): boolean => ['ENOENT', 'ENOTDIR', 'ELOOP'].includes(errnoCode(err) ?? '');

export function directorySize(path: string): number {
  const seen = new Set<string>();
  let total = 0;
  const walk = (fd: number): void => {
    const at = `/proc/self/fd/${fd}/`;
    for (const name of readdirSync(at, { encoding: 'buffer' })) {
      const child = Buffer.concat([Buffer.from(at), name]);
      let st;
      try {
        st = lstatSync(child, { bigint: true });
      } catch (err) {
        if (vanished(err)) continue;
        throw err;
      }
      const key = `${st.dev}:${st.ino}`;
      if (seen.has(key)) continue;
      seen.add(key);
      if (!st.isDirectory()) {
        total += Number(st.size);
        continue;
      }
      let sub: number;
      try {
        sub = openSync(child, DIR_FLAGS);
      } catch (err) {
        if (vanished(err)) continue;
        throw err;
      }
      try {
        walk(sub);
      } finally {
        closeSync(sub);
      }
    }
  };
  const fd = openSync(path, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    walk(fd);
  } finally {
    closeSync(fd);
  }
  return total;
}
