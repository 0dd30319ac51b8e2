/**
 * A process that swaps two names of a directory as fast as it can
 * (renameat2 RENAME_EXCHANGE), as a container would in a symlink-exchange
 * attack (CVE-2018-15664) on what the host reads or writes in it. Stopped
 * after the test; resolves once a swap has been seen.
 */
import { spawn } from 'node:child_process';
import { lstatSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { onCleanup } from './cleanup.ts';
import { REPO, waitFor } from './runtime.ts';

/** Starts swapping `dir/a` and `dir/b`; `b` must be a symlink, so the swap shows as `a` becoming one. */
export async function startSwapper(t: TestContext, dir: string, a: string, b: string): Promise<{ stop(): void }> {
  const swapper = spawn(
    join(REPO, 'build', 'node'),
    [
      '--input-type=module',
      '-e',
      `const sys = await import(${JSON.stringify(join(REPO, 'src', 'sys', 'index.ts'))});
       const fd = sys.openat(sys.AT_FDCWD, ${JSON.stringify(dir)}, sys.O_RDONLY | sys.O_DIRECTORY);
       for (;;) sys.renameat2(fd, ${JSON.stringify(a)}, fd, ${JSON.stringify(b)}, sys.RENAME_EXCHANGE);`,
    ],
    { stdio: 'ignore' },
  );
  const stop = (): void => {
    swapper.kill('SIGKILL');
  };
  onCleanup(t, stop);
  await waitFor('the swapper to run', () => (lstatSync(join(dir, a)).isSymbolicLink() ? true : undefined));
  return { stop };
}
