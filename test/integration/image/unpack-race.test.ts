/**
 * docker CVE-2018-15664: while a layer is written, another process keeps
 * swapping a directory of the rootfs with a symlink to the host. Writes go
 * through fds resolved with RESOLVE_IN_ROOT, so the swap can make entries
 * fail or land in the wrong directory inside the root, never outside.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';
import { tarOf, type WriteEntry } from '../../unit/image/unpack/fixtures/tar-writer.ts';
import { tempDir, layersOf } from '../../unit/image/unpack/helpers.ts';
import { unpackLayers } from '../../../src/image/unpack/index.ts';

test('docker CVE-2018-15664: a symlink swapped in during unpack never sends a write outside the root', async (t) => {
  const dir = tempDir(t);
  const outside = join(dir, 'outside');
  const rootfs = join(dir, 'rootfs');
  mkdirSync(outside);
  mkdirSync(join(rootfs, 'target'), { recursive: true });
  writeFileSync(join(outside, 'victim'), 'original');
  // The racer swaps rootfs/target (a directory) with a symlink to the host and back, as fast as it can.
  const script = `
    cd "$1" || exit 1
    ln -s "$2" evil
    while :; do
      mv -T target tmp 2>/dev/null; mv -T evil target 2>/dev/null
      mv -T target evil 2>/dev/null; mv -T tmp target 2>/dev/null
    done`;
  const racer = spawn('bash', ['-c', script, 'racer', rootfs, outside], { stdio: 'ignore' });
  t.after(() => {
    if (racer.exitCode === null) racer.kill('SIGKILL');
  });
  const entries: WriteEntry[] = [];
  for (let i = 0; i < 1500; i++) entries.push({ name: `target/f${i}`, data: `file ${i}`, mode: 0o777 });
  let failures = 0;
  for (let round = 0; round < 3; round++) {
    try {
      await unpackLayers(rootfs, layersOf([tarOf(entries)]));
    } catch {
      failures++; // losing the race inside the root is allowed; escaping it is not
    }
  }
  racer.kill('SIGKILL');
  await once(racer, 'exit');
  assert.deepEqual(readdirSync(outside), ['victim'], `nothing written outside (${failures} rounds failed inside)`);
});
