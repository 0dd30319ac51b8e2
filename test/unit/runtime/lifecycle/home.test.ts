/** HOME from the container's /etc/passwd, read from the host side without ever leaving the root. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import type { Process } from '../../../../src/oci/runtime-spec.ts';
import { readFileInRoot, withHome } from '../../../../src/runtime/lifecycle/home.ts';
import { tempDir } from '../../../helpers/cleanup.ts';

const PASSWD = 'root:x:0:0:root:/root:/bin/sh\nwww:x:33:33::/var/www:/bin/false\nnohome:x:1001:1001:::\n';

function proc(uid: number, env: string[] = ['PATH=/bin']): Process {
  return { cwd: '/', args: ['sh'], env, user: { uid, gid: uid } };
}

function rootfs(t: TestContext, passwd: string | null = PASSWD): string {
  const root = join(tempDir(t, 'berth-home-'), 'rootfs');
  mkdirSync(join(root, 'etc'), { recursive: true });
  if (passwd !== null) writeFileSync(join(root, 'etc', 'passwd'), passwd);
  return root;
}

const homeOf = (p: Process): string | undefined => p.env?.find((e) => e.startsWith('HOME='))?.slice(5);

describe('withHome', () => {
  test('the uid\'s home from the rootfs\'s /etc/passwd; "/" without an entry or a home; a given HOME stays', (t) => {
    const root = rootfs(t);
    assert.equal(homeOf(withHome(proc(0), root, root)), '/root');
    assert.equal(homeOf(withHome(proc(33), root, root)), '/var/www');
    assert.equal(homeOf(withHome(proc(1001), root, root)), '/');
    assert.equal(homeOf(withHome(proc(4242), root, root)), '/');
    assert.deepEqual(withHome(proc(0, ['HOME=/elsewhere']), root, root).env, ['HOME=/elsewhere']);
    assert.deepEqual(withHome(proc(0), root, root).env, ['PATH=/bin', 'HOME=/root']);
  });

  test('no /etc/passwd, or a FIFO in its place (which must not hang): "/"', (t) => {
    assert.equal(homeOf(withHome(proc(0), rootfs(t, null), '/')), '/');
    const root = rootfs(t, null);
    execFileSync('mkfifo', [join(root, 'etc', 'passwd')]);
    assert.equal(homeOf(withHome(proc(0), root, '/')), '/');
  });

  test('symlinks resolve inside the root: an absolute link and a ".." climb stay in it', (t) => {
    const root = rootfs(t, null);
    mkdirSync(join(root, 'usr', 'share'), { recursive: true });
    writeFileSync(join(root, 'usr', 'share', 'passwd'), 'root:x:0:0::/in-the-image:/bin/sh\n');
    symlinkSync('/usr/share/passwd', join(root, 'etc', 'passwd'));
    assert.equal(homeOf(withHome(proc(0), root, '/')), '/in-the-image');

    // A link that climbs out would reach the host's file; inside the root it finds the image's.
    const outside = tempDir(t, 'berth-home-host-');
    writeFileSync(join(outside, 'passwd'), 'root:x:0:0::/on-the-host:/bin/sh\n');
    const climbing = rootfs(t, null);
    mkdirSync(join(climbing, outside), { recursive: true });
    writeFileSync(join(climbing, outside, 'passwd'), 'root:x:0:0::/still-in-the-image:/bin/sh\n');
    symlinkSync(`../../../../../../../..${outside}/passwd`, join(climbing, 'etc', 'passwd'));
    assert.equal(homeOf(withHome(proc(0), climbing, '/')), '/still-in-the-image');
    const absolute = rootfs(t, null);
    symlinkSync(join(outside, 'passwd'), join(absolute, 'etc', 'passwd'));
    assert.equal(homeOf(withHome(proc(0), absolute, '/')), '/');
  });

  test('a bind mount of the spec on /etc/passwd or /etc is what the container sees', (t) => {
    const root = rootfs(t);
    const bundle = tempDir(t, 'berth-home-bundle-');
    writeFileSync(join(bundle, 'my-passwd'), 'root:x:0:0::/from-the-bind:/bin/sh\n');
    const onFile = [{ destination: '/etc/passwd', source: 'my-passwd', type: 'bind', options: ['rbind', 'ro'] }];
    assert.equal(homeOf(withHome(proc(0), root, bundle, onFile)), '/from-the-bind');
    mkdirSync(join(bundle, 'etc'));
    writeFileSync(join(bundle, 'etc', 'passwd'), 'root:x:0:0::/from-etc:/bin/sh\n');
    const onEtc = [{ destination: '/etc/', source: join(bundle, 'etc'), options: ['bind'] }];
    assert.equal(homeOf(withHome(proc(0), root, bundle, onEtc)), '/from-etc');
    // A tmpfs on /etc hides the image's file.
    assert.equal(homeOf(withHome(proc(0), root, bundle, [{ destination: '/etc', type: 'tmpfs', source: 'tmpfs' }])), '/');
  });
});

describe('readFileInRoot', () => {
  test('a directory, a missing file or a loop of links is no file', (t) => {
    const root = rootfs(t);
    assert.equal(readFileInRoot(root, '/etc'), undefined);
    assert.equal(readFileInRoot(root, '/etc/shadow'), undefined);
    symlinkSync('b', join(root, 'a'));
    symlinkSync('a', join(root, 'b'));
    assert.equal(readFileInRoot(root, '/a'), undefined);
    assert.equal(readFileInRoot(root, '/etc/../etc/./passwd'), PASSWD);
  });
});
