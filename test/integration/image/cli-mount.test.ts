import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { berth, berthOk } from '../../helpers/registry-cli.ts';

test('image mount shows the image read-only at a directory; unmount takes it away (root)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-mount-'));
  const root = join(dir, 'root');
  const target = join(dir, 'target');
  // Unmount first, then remove: never recurse into a live mount.
  t.after(async () => {
    for (const m of (await berth('--root', root, 'image', 'mount')).stdout.split('\n').filter(Boolean)) {
      await berth('--root', root, 'image', 'unmount', m.split('\t')[0] ?? '');
    }
    rmSync(dir, { recursive: true, force: true });
  });
  const tree = join(dir, 'tree');
  mkdirSync(join(tree, 'etc'), { recursive: true });
  writeFileSync(join(tree, 'etc', 'greeting'), 'mounted\n');
  await berthOk('--root', root, '--quiet', 'import', tree, 'mnt:v1');
  mkdirSync(target);

  const out = await berthOk('--root', root, 'image', 'mount', 'mnt:v1', target);
  assert.equal(out.stdout, `${target}\n`);
  assert.equal(readFileSync(join(target, 'etc', 'greeting'), 'utf8'), 'mounted\n');
  assert.throws(() => writeFileSync(join(target, 'etc', 'new'), 'x'), /EROFS/);
  assert.match((await berthOk('--root', root, 'image', 'mount')).stdout, new RegExp(`^${target}\t`));

  await berthOk('--root', root, 'image', 'unmount', 'mnt:v1');
  assert.deepEqual(readdirSync(target), []);
  assert.equal((await berthOk('--root', root, 'image', 'mount')).stdout, '');

  const def = (await berthOk('--root', root, 'image', 'mount', '--writable', 'mnt:v1')).stdout.trim();
  writeFileSync(join(def, 'etc', 'scratch'), 'discarded');
  await berthOk('--root', root, 'image', 'unmount', def);
  assert.equal(existsSync(def), false, 'the default mount point is removed');
  const again = (await berthOk('--root', root, 'image', 'mount', 'mnt:v1', target)).stdout.trim();
  assert.equal(existsSync(join(again, 'etc', 'scratch')), false, 'writes to a writable mount are discarded');
  await berthOk('--root', root, 'image', 'unmount', target);
});
