import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mountPointOf, mountPoints } from '../../../../src/runtime/linux/mountinfo.ts';

test('the mount a path lives on is the longest mount point that holds it', () => {
  const points = mountPoints(['22 1 8:1 / / rw - ext4 /dev/sda1 rw', '23 22 0:5 / /run rw - tmpfs tmpfs rw', '24 23 0:6 / /run/berth\\040x rw - tmpfs tmpfs rw'].join('\n'));
  assert.deepEqual(points, ['/', '/run', '/run/berth x']);
  assert.equal(mountPointOf('/run/berth x/c1/rootfs', points), '/run/berth x');
  assert.equal(mountPointOf('/run/berth', points), '/run', 'a name that only starts like a mount point is not on it');
  assert.equal(mountPointOf('/run', points), '/run');
  assert.equal(mountPointOf('/srv', points), '/');
});
