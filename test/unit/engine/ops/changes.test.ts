/**
 * docker diff's list from a writable layer's entries (src/engine/ops/changes.ts):
 * whiteouts are deletions, names the image has are changes, the rest
 * additions; the places berth mounted on (and directories changed only by
 * them) are left out, as docker keeps those in its init layer.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DiffItem } from '../../../../src/image/build/layer/diff.ts';
import { changesOf, withoutMountPoints, type Change } from '../../../../src/engine/ops/changes.ts';

const item = (name: string): DiffItem => ({
  header: { name, type: name.endsWith('/') ? 'dir' : 'file', mode: 0o644, uid: 0, gid: 0, size: 0, mtime: 0, linkname: '', devmajor: 0, devminor: 0, xattrs: undefined },
});

test('whiteouts are deletions, names in the image changes, new names additions; an opaque marker adds nothing', () => {
  const image = new Set(['etc', 'etc/passwd', 'var']);
  const changes = changesOf(['etc/', 'etc/.wh.group', 'etc/passwd', 'new/', 'new/file', 'var/', 'var/.wh..wh..opq', 'caf\xc3\xa9'].map(item), (p) => image.has(p));
  assert.deepEqual(changes, [
    { Path: '/etc', Kind: 0 },
    { Path: '/etc/group', Kind: 2 },
    { Path: '/etc/passwd', Kind: 0 },
    { Path: '/new', Kind: 1 },
    { Path: '/new/file', Kind: 1 },
    { Path: '/var', Kind: 0 },
    { Path: '/café', Kind: 1 },
  ]);
});

test('mount points and the directories changed only by them are left out', () => {
  const changes: Change[] = [
    { Path: '/data', Kind: 1 },
    { Path: '/etc', Kind: 0 },
    { Path: '/etc/hostname', Kind: 1 },
    { Path: '/etc/hosts', Kind: 1 },
    { Path: '/etc/motd', Kind: 1 },
    { Path: '/sbin', Kind: 0 },
    { Path: '/sbin/berth-init', Kind: 1 },
    { Path: '/tmp', Kind: 1 },
  ];
  assert.deepEqual(withoutMountPoints(changes, ['/data', '/etc/hostname', '/etc/hosts', '/sbin/berth-init']), [
    { Path: '/etc', Kind: 0 },
    { Path: '/etc/motd', Kind: 1 },
    { Path: '/tmp', Kind: 1 },
  ]);
});
