/**
 * The size walk of a container's writable layer (and of volumes: the same
 * walk) while the container swaps one of its directories for a symlink to
 * a big host directory: the walk never descends through the symlink.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { lstatSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { writableLayerSize } from '../../../../src/engine/ops/disk.ts';
import { onCleanup, REPO, tempDir, waitFor } from '../../../helpers/runtime.ts';

test('a directory swapped for a symlink to the host during the size walk is never walked (symlink-exchange race)', async (t) => {
  const host = tempDir(t, 'berth-df-');
  const upper = join(host, 'upper');
  const big = join(host, 'host-data');
  mkdirSync(join(upper, 'dir'), { recursive: true });
  mkdirSync(big);
  writeFileSync(join(upper, 'dir', 'small'), Buffer.alloc(10));
  writeFileSync(join(big, 'huge'), Buffer.alloc(1_000_000));
  symlinkSync(big, join(upper, 'swap'));
  const swapper = spawn(
    join(REPO, 'build', 'node'),
    [
      '--input-type=module',
      '-e',
      `const sys = await import(${JSON.stringify(join(REPO, 'src', 'sys', 'index.ts'))});
       const fd = sys.openat(sys.AT_FDCWD, ${JSON.stringify(upper)}, sys.O_RDONLY | sys.O_DIRECTORY);
       for (;;) sys.renameat2(fd, 'dir', fd, 'swap', sys.RENAME_EXCHANGE);`,
    ],
    { stdio: 'ignore' },
  );
  onCleanup(t, () => {
    swapper.kill('SIGKILL');
  });
  await waitFor('the swapper to run', () => (lstatSync(join(upper, 'dir')).isSymbolicLink() ? true : undefined));
  // Whichever name the directory has, the upper holds 10 bytes and one symlink (its target's length).
  const most = 10 + Buffer.byteLength(big);
  for (let i = 0; i < 2000; i++) {
    const size = writableLayerSize(upper);
    assert.ok(size <= most, `walked into the host directory: ${size} bytes`);
  }
  swapper.kill('SIGKILL');
});
