/**
 * Whether overlayfs can be used under a directory: the kernel must know it
 * and a trial mount on that file system must succeed (some file systems
 * refuse to be an upper dir, and unprivileged callers cannot mount). The
 * answer is cached per directory; BERTH_SNAPSHOTTER=copy forces the copying
 * fallback (tests use it to exercise that path on any machine).
 */
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { SnapshotDriver } from './types.ts';

const cache = new Map<string, SnapshotDriver>();

export async function detectDriver(dir: string): Promise<SnapshotDriver> {
  const forced = process.env['BERTH_SNAPSHOTTER'];
  if (forced === 'copy' || forced === 'overlay') return forced;
  const known = cache.get(dir);
  if (known !== undefined) return known;
  const driver = (await overlayWorks(dir)) ? 'overlay' : 'copy';
  cache.set(dir, driver);
  return driver;
}

async function overlayWorks(dir: string): Promise<boolean> {
  if (!/\toverlay$/m.test(readFileSync('/proc/filesystems', 'utf8'))) return false;
  const probe = join(dir, `.overlay-probe-${process.pid}`);
  const sys = await import('../../sys/index.ts');
  try {
    for (const d of ['lower', 'upper', 'work', 'merged']) mkdirSync(join(probe, d), { recursive: true });
    sys.mount('overlay', join(probe, 'merged'), 'overlay', 0, `lowerdir=${join(probe, 'lower')},upperdir=${join(probe, 'upper')},workdir=${join(probe, 'work')}`);
    sys.umount2(join(probe, 'merged'), sys.MNT_DETACH);
    return true;
  } catch {
    return false;
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
}
