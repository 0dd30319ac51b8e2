import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseMountInfo } from '../../../src/sys/mountinfo.ts';

const TEXT = [
  '22 1 259:2 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p2 rw,errors=remount-ro',
  '36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 propagate_from:2 - ext3 /dev/root rw,errors=continue',
  '30 22 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot',
  '31 22 0:27 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid - cgroup cgroup rw,cpu,cpuacct',
  '40 22 0:50 /with\\040space /mnt/a\\040b\\011c\\134d rw - tmpfs my\\040tmp rw',
  '41 22 0:51 / /empty rw - tmpfs none ',
  'not a mountinfo line',
  '42 22 0:52 / /cut rw shared:3',
  '',
].join('\n');

test('each line becomes a record with every field', () => {
  const [root, ext3] = parseMountInfo(TEXT);
  assert.deepEqual(root, {
    id: 22, parentId: 1, major: 259, minor: 2, root: '/', mountPoint: '/', options: ['rw', 'relatime'], optional: ['shared:1'],
    fstype: 'ext4', source: '/dev/nvme0n1p2', superOptions: ['rw', 'errors=remount-ro'],
  });
  assert.deepEqual([ext3?.id, ext3?.parentId, ext3?.major, ext3?.minor, ext3?.root, ext3?.mountPoint], [36, 35, 98, 0, '/mnt1', '/mnt2']);
  assert.deepEqual(ext3?.optional, ['master:1', 'propagate_from:2'], 'any number of optional fields');
});

test('paths are unescaped: space, tab, backslash', () => {
  const m = parseMountInfo(TEXT).find((x) => x.id === 40);
  assert.equal(m?.root, '/with space');
  assert.equal(m?.mountPoint, '/mnt/a b\tc\\d');
  assert.equal(m?.source, 'my tmp');
  assert.deepEqual(m?.optional, [], 'no optional fields');
});

test('cgroup hierarchies keep their super options; an empty one is an empty list', () => {
  const all = parseMountInfo(TEXT);
  assert.deepEqual(all.find((x) => x.id === 31)?.superOptions, ['rw', 'cpu', 'cpuacct']);
  assert.equal(all.find((x) => x.id === 30)?.fstype, 'cgroup2');
  assert.deepEqual(all.find((x) => x.id === 41)?.superOptions, []);
});

test('lines without the separator or with fields missing are skipped', () => {
  assert.deepEqual(parseMountInfo(TEXT).map((m) => m.id), [22, 36, 30, 31, 40, 41]);
  assert.deepEqual(parseMountInfo(''), []);
});
