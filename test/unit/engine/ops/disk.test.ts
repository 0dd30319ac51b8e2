/**
 * A container's writable layer size for `system df`: the upper directory's
 * files (links once, symlinks unfollowed, whiteouts 0), 0 when it is gone.
 */
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { containerSizes, writableLayerSize } from '../../../../src/engine/ops/disk.ts';
import { tempDir } from '../../../helpers/cleanup.ts';

test('the writable layer counts the upper directory; a missing one is 0 B', (t) => {
  const upper = tempDir(t);
  mkdirSync(join(upper, 'etc'));
  writeFileSync(join(upper, 'etc', 'changed'), Buffer.alloc(4096));
  symlinkSync('/usr/share/doc', join(upper, 'doc'));
  const want = 4096 + Buffer.byteLength('/usr/share/doc');
  assert.equal(writableLayerSize(upper), want);
  assert.deepEqual(containerSizes(upper, 1_000_000), { SizeRw: want, SizeRootFs: want + 1_000_000 });
  assert.equal(writableLayerSize(join(upper, 'no-such-dir')), 0);
});
