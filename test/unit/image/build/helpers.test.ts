import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseChmod, parseChown } from '../../../../src/image/build/exec/chown.ts';
import { exposedPorts, parseDuration } from '../../../../src/image/build/dispatch/metadata.ts';
import { runSpec, DOCKER_CAPS } from '../../../../src/image/build/exec/run-container.ts';
import { isTarHeader } from '../../../../src/image/build/exec/archive.ts';
import { absoluteIn, cleanPath, relativeToRoot } from '../../../../src/image/build/paths.ts';
import { setEnv, getEnv } from '../../../../src/image/build/state.ts';
import { tarHeader } from '../../../../src/image/tar/writer.ts';

const db = {
  passwd: 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1001::/home/app:/bin/sh\nbin:x:2:2::/bin:/bin/false\n',
  group: 'root:x:0:\nstaff:x:50:app\nbin:x:3:\n',
};

test('--chown: names from the image, numbers as they are, a lone user gives the group (by name, else the primary group)', () => {
  assert.deepEqual(parseChown('app:staff', db), { uid: 1000, gid: 50 });
  assert.deepEqual(parseChown('1234', db), { uid: 1234, gid: 1234 });
  assert.deepEqual(parseChown('1234:99', db), { uid: 1234, gid: 99 });
  assert.deepEqual(parseChown('app', db), { uid: 1000, gid: 1001 }, 'no group "app": the primary group');
  assert.deepEqual(parseChown('bin', db), { uid: 2, gid: 3 }, 'a group named like the user');
  assert.throws(() => parseChown('ghost', db), /--chown=ghost: no user "ghost" in the image's \/etc\/passwd/);
  assert.throws(() => parseChown('app:ghosts', db), /no group "ghosts" in the image's \/etc\/group/);
  assert.throws(() => parseChown('a:b:c', db), /want USER\[:GROUP\]/);
  assert.throws(() => parseChown('app', {}), /no user "app"/, 'an image without /etc/passwd knows no names');
});

test('--chmod is octal', () => {
  assert.equal(parseChmod('755'), 0o755);
  assert.equal(parseChmod('0640'), 0o640);
  assert.equal(parseChmod('4755'), 0o4755);
  for (const bad of ['u+x', '999', '75', '']) assert.throws(() => parseChmod(bad), /--chmod/);
});

test('EXPOSE ports and ranges; HEALTHCHECK durations', () => {
  assert.deepEqual(exposedPorts(['80', '53/UDP', '10-12/tcp']), ['80/tcp', '53/udp', '10/tcp', '11/tcp', '12/tcp']);
  for (const bad of ['0', '70000', '9-8', 'http', '80/icmp']) assert.throws(() => exposedPorts([bad]), /invalid port/);
  assert.equal(parseDuration('1m30s'), 90e9);
  assert.equal(parseDuration('500ms'), 500e6);
  assert.equal(parseDuration('1.5h'), 5400e9);
  assert.equal(parseDuration('0'), 0);
  assert.throws(() => parseDuration('10'), /invalid duration/);
});

test('the RUN container: root gets Docker\'s capabilities, another user only the bounding set; writable root; no new-privileges off', () => {
  const user = { uid: 0, gid: 0, additionalGids: [], home: '/root' };
  const spec = runSpec({ args: ['/bin/sh', '-c', 'x'], env: ['A=1'], cwd: '/w', user, rootfs: '/mnt/r' });
  assert.deepEqual(spec.process?.capabilities?.effective, DOCKER_CAPS);
  assert.equal(spec.process?.noNewPrivileges, false);
  assert.deepEqual(spec.root, { path: '/mnt/r', readonly: false });
  assert.equal(spec.process?.terminal, false);
  assert.ok(spec.linux?.namespaces?.some((n) => n.type === 'network'), 'a network namespace of its own: no network');
  const nobody = runSpec({ args: ['x'], env: [], cwd: '/', user: { uid: 65534, gid: 65534, additionalGids: [5], home: '/' }, rootfs: '/r' });
  assert.deepEqual(nobody.process?.capabilities, { bounding: DOCKER_CAPS });
  assert.deepEqual(nobody.process?.user, { uid: 65534, gid: 65534, additionalGids: [5] });
});

test('a tar header is recognised by its checksum', () => {
  const h = tarHeader({ name: 'a.txt', type: 'file', mode: 0o644, uid: 0, gid: 0, size: 3, mtime: 0, linkname: '', devmajor: 0, devminor: 0, xattrs: undefined });
  assert.equal(isTarHeader(h), true);
  const broken = Buffer.from(h);
  broken[0] = 0x62;
  assert.equal(isTarHeader(broken), false);
  assert.equal(isTarHeader(Buffer.alloc(512)), false);
  assert.equal(isTarHeader(Buffer.from('hello')), false);
});

test('paths: Go cleaning, WORKDIR-relative destinations, env replacement in place', () => {
  assert.equal(cleanPath('a//b/./c/..'), 'a/b');
  assert.equal(cleanPath('/../x'), '/x');
  assert.equal(cleanPath('../x'), '../x');
  assert.equal(cleanPath(''), '.');
  assert.equal(absoluteIn('/app', 'sub/../x'), '/app/x');
  assert.equal(absoluteIn('/app', '/abs'), '/abs');
  assert.equal(absoluteIn('', '.'), '/');
  assert.equal(relativeToRoot('/'), '');
  assert.equal(relativeToRoot('/a/b/'), 'a/b');
  const env = setEnv(['A=1', 'B=2', 'C=3'], 'B', 'x');
  assert.deepEqual(env, ['A=1', 'B=x', 'C=3']);
  assert.equal(getEnv(env, 'B'), 'x');
  assert.equal(getEnv(env, 'Z'), undefined);
});
