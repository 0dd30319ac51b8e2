import assert from 'node:assert/strict';
import { linkSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { directorySize } from '../../../../src/engine/volumes/size.ts';
import { tempDir } from '../../../helpers/cleanup.ts';

test('the size of a directory counts file bytes, hard links once, symlinks unfollowed', (t) => {
  const dir = tempDir(t);
  const outside = tempDir(t);
  writeFileSync(join(outside, 'big'), Buffer.alloc(100_000));
  mkdirSync(join(dir, 'sub/deeper'), { recursive: true });
  writeFileSync(join(dir, 'a'), Buffer.alloc(1000));
  writeFileSync(join(dir, 'sub/deeper/b'), Buffer.alloc(234));
  linkSync(join(dir, 'a'), join(dir, 'sub/a-again'));
  symlinkSync(join(outside, 'big'), join(dir, 'link'));
  const linkSize = Buffer.byteLength(join(outside, 'big'));
  assert.equal(directorySize(dir), 1000 + 234 + linkSize);
  assert.equal(directorySize(outside), 100_000);
});
