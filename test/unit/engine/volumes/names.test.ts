import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { isBerthError } from '../../../../src/errors.ts';
import { checkVolumeName, newVolumeName, volumePaths, volumesDir } from '../../../../src/engine/volumes/names.ts';

test("volumes live at docker's <root>/volumes/<name>/_data", () => {
  assert.equal(volumesDir('/var/lib/berth'), '/var/lib/berth/volumes');
  assert.deepEqual(volumePaths('/var/lib/berth', 'data.1'), { dir: '/var/lib/berth/volumes/data.1', data: '/var/lib/berth/volumes/data.1/_data' });
  assert.match(newVolumeName(), /^[0-9a-f]{64}$/);
  assert.notEqual(newVolumeName(), newVolumeName());
});

test('path escape: hostile volume names (.., /, NUL, very long) are refused before any path is made from them', () => {
  const hostile = ['..', '.', '../etc', '/etc', 'a/../../b', 'a/b', 'a\0b', '\0', '.trash-x', '', 'x', '-rf', 'x'.repeat(256), 'x'.repeat(4097), ' a', 'a\n'];
  for (const name of hostile) {
    assert.throws(
      () => volumePaths('/root', name),
      (err: unknown) => isBerthError(err, 'invalid_volume_name') && err.message.startsWith('volume name "'),
      JSON.stringify(name),
    );
  }
  // What passes is one path component directly under the volumes directory.
  for (const name of ['ab', 'a..', 'x'.repeat(255), 'A_b-c.d']) {
    assert.equal(join(volumePaths('/root', name).dir, '..'), '/root/volumes');
  }
  // A very long name is shortened in the message, named in the details.
  assert.throws(
    () => checkVolumeName('y'.repeat(5000)),
    (err: unknown) => isBerthError(err, 'invalid_volume_name') && err.message.length < 300 && err.details['name'] === 'y'.repeat(5000),
  );
});
