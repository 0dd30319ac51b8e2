/**
 * The size walk of a container's writable layer (and of volumes: the same
 * walk) while the container swaps one of its directories for a symlink to
 * a big host directory: the walk never descends through the symlink.
 */
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { writableLayerSize } from '../../../../src/engine/ops/disk.ts';
import { tempDir } from '../../../helpers/runtime.ts';
import { startSwapper } from '../../../helpers/swapper.ts';

test('a directory swapped for a symlink to the host during the size walk is never walked (symlink-exchange race)', async (t) => {
  const host = tempDir(t, 'berth-df-');
  const upper = join(host, 'upper');
  const big = join(host, 'host-data');
  mkdirSync(join(upper, 'dir'), { recursive: true });
  mkdirSync(big);
  writeFileSync(join(upper, 'dir', 'small'), Buffer.alloc(10));
  writeFileSync(join(big, 'huge'), Buffer.alloc(1_000_000));
  symlinkSync(big, join(upper, 'swap'));
  const swapper = await startSwapper(t, upper, 'dir', 'swap');
  // Whichever name the directory has, the upper holds 10 bytes and one symlink (its target's length).
  const most = 10 + Buffer.byteLength(big);
  for (let i = 0; i < 2000; i++) {
    const size = writableLayerSize(upper);
    assert.ok(size <= most, `walked into the host directory: ${size} bytes`);
  }
  swapper.stop();
});
