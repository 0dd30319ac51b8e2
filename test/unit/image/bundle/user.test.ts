import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveUser } from '../../../../src/image/bundle/user.ts';
import { isBerthError } from '../../../../src/errors.ts';

const passwd = 'root:x:0:0:root:/root:/bin/sh\n# comment\nbroken line\nwww:x:33:33::/var/www:/bin/false\nbob:x:1000:1000:Bob:/home/bob:/bin/sh\nnohome:x:1001:1001:::\n';
const group = 'root:x:0:\nwww:x:33:bob\nstaff:x:50:bob,alice\nbob:x:1000:\nwheel:x:10:root\n';
const db = { passwd, group };

test('names, numbers and groups resolve as moby/sys/user resolves them', () => {
  assert.deepEqual(resolveUser(undefined, db), { uid: 0, gid: 0, additionalGids: [10], home: '/root' });
  assert.deepEqual(resolveUser('bob', db), { uid: 1000, gid: 1000, additionalGids: [33, 50], home: '/home/bob' });
  assert.deepEqual(resolveUser('1000', db), { uid: 1000, gid: 1000, additionalGids: [33, 50], home: '/home/bob' });
  assert.deepEqual(resolveUser('bob:staff', db), { uid: 1000, gid: 50, additionalGids: [], home: '/home/bob' });
  assert.deepEqual(resolveUser('www:4242', db), { uid: 33, gid: 4242, additionalGids: [], home: '/var/www' });
  assert.deepEqual(resolveUser('4000', db), { uid: 4000, gid: 0, additionalGids: [], home: '/' });
  assert.deepEqual(resolveUser('4000:4001', {}), { uid: 4000, gid: 4001, additionalGids: [], home: '/' });
  assert.deepEqual(resolveUser('nohome', db), { uid: 1001, gid: 1001, additionalGids: [], home: '/' });
});

test('unknown names and malformed specs are refused naming the field', () => {
  for (const [spec, pattern] of [
    ['nobody', /no user "nobody" in the image's \/etc\/passwd/],
    ['bob:nogroup', /no group "nogroup" in the image's \/etc\/group/],
    ['a:b:c', /more than one ":"/],
    ['bob', /no user "bob"/],
  ] as const) {
    assert.throws(
      () => resolveUser(spec, spec === 'bob' ? {} : db),
      (err: unknown) => isBerthError(err, 'image_user') && pattern.test(err.message) && err.message.includes(`User ${JSON.stringify(spec)}`),
    );
  }
});
