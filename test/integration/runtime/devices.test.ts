/**
 * /dev in berth-runtime containers (root): the default device nodes with
 * their types, numbers and modes, the /dev links, a private devpts with
 * ptmx, the spec's own devices, the device cgroup deciding what may be
 * opened, and host nodes bound in when a user namespace forbids mknod.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync } from 'node:fs';
import { describe, test, type TestContext } from 'node:test';
import type { Spec } from '../../../src/oci/runtime-spec.ts';
import { makeBundle, RuntimeFixture } from '../../helpers/runtime.ts';

async function inside(t: TestContext, script: string, edit?: (spec: Spec) => void, prepare?: (dir: string, rootfs: string) => void): Promise<string> {
  const rt = new RuntimeFixture(t);
  const bundle = makeBundle(t, { args: ['sh', '-c', script], ...(edit ? { edit } : {}) });
  prepare?.(bundle.dir, bundle.rootfs);
  const r = await rt.runBundle(bundle);
  assert.equal(r.code, 0, `container failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

const STAT = 'stat -c "%n %F %t:%T %a %u:%g"';

describe('berth-runtime devices (root)', () => {
  test('the default devices: character nodes with the right numbers and mode 666', async (t) => {
    const out = await inside(t, `${STAT} /dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/tty`);
    assert.deepEqual(out.trim().split('\n'), [
      '/dev/null character special file 1:3 666 0:0',
      '/dev/zero character special file 1:5 666 0:0',
      '/dev/full character special file 1:7 666 0:0',
      '/dev/random character special file 1:8 666 0:0',
      '/dev/urandom character special file 1:9 666 0:0',
      '/dev/tty character special file 5:0 666 0:0',
    ]);
  });

  test('the default devices work: zeros, a full disk, random bytes, a sink', async (t) => {
    const script = [
      'head -c 4 /dev/zero | od -An -tx1',
      '(echo x > /dev/full) 2>&1',
      'head -c 16 /dev/urandom | wc -c',
      'echo gone > /dev/null && echo null-ok',
    ].join('; ');
    const out = await inside(t, script);
    const [zeros, full, random, sink] = out.split('\n');
    assert.equal(zeros?.trim(), '00 00 00 00');
    assert.match(full ?? '', /No space left on device/);
    assert.equal(random, '16');
    assert.equal(sink, 'null-ok');
  });

  test('/dev links: fd, stdin, stdout, stderr, ptmx (and core only when the host has /proc/kcore)', async (t) => {
    const out = await inside(t, 'for l in fd stdin stdout stderr ptmx; do readlink /dev/$l; done; [ -L /dev/core ] && echo core || echo no-core');
    assert.deepEqual(out.trim().split('\n'), [
      '/proc/self/fd',
      '/proc/self/fd/0',
      '/proc/self/fd/1',
      '/proc/self/fd/2',
      'pts/ptmx',
      existsSync('/proc/kcore') ? 'core' : 'no-core',
    ]);
  });

  test('/dev/pts is a private devpts whose ptmx hands out terminals numbered from 0', async (t) => {
    const out = await inside(t, `${STAT} /dev/pts/ptmx; ls /dev/pts; exec 3<>/dev/ptmx; ls /dev/pts; grep " /dev/pts " /proc/self/mountinfo`);
    const [ptmx, before1, after1, after2, mountinfo] = out.trim().split('\n');
    assert.equal(ptmx, '/dev/pts/ptmx character special file 5:2 666 0:0');
    assert.equal(before1, 'ptmx');
    // The first terminal of this instance is 0, whatever the host has.
    assert.deepEqual([after1, after2], ['0', 'ptmx']);
    assert.match(mountinfo ?? '', / - devpts devpts rw,.*gid=5,mode=620,ptmxmode=666/);
  });

  test('linux.devices: nodes of every type with their mode and owner, in subdirectories too', async (t) => {
    const out = await inside(t, `${STAT} /dev/mynull /dev/sub/zero2 /dev/blk0 /dev/myfifo; head -c 2 /dev/sub/zero2 | od -An -tx1`, (spec) => {
      spec.linux!.devices = [
        { path: '/dev/mynull', type: 'c', major: 1, minor: 3, fileMode: 0o640, uid: 1000, gid: 1001 },
        { path: '/dev/sub/zero2', type: 'c', major: 1, minor: 5, fileMode: 0o666 },
        { path: '/dev/blk0', type: 'b', major: 7, minor: 0, fileMode: 0o600 },
        { path: '/dev/myfifo', type: 'p', fileMode: 0o620 },
      ];
    });
    const lines = out.trim().split('\n');
    assert.deepEqual(lines.slice(0, 4), [
      '/dev/mynull character special file 1:3 640 1000:1001',
      '/dev/sub/zero2 character special file 1:5 666 0:0',
      '/dev/blk0 block special file 7:0 600 0:0',
      '/dev/myfifo fifo 0:0 620 0:0',
    ]);
    assert.equal(lines[4]?.trim(), '00 00');
  });

  test('the device cgroup: mknod is allowed, opening decides by the rules', async (t) => {
    // The error opening /dev/loop0 (7:0) says who refused: the device cgroup (EPERM) or the driver.
    const script = [
      'mknod /scratch/null2 c 1 3 && echo x > /scratch/null2 && echo null2-ok',
      'mknod /scratch/loop0 b 7 0 && echo mknod-ok',
      '(head -c 1 /scratch/loop0 > /dev/null) 2>&1 || true',
    ].join('; ');
    const caps = ['CAP_MKNOD', 'CAP_KILL'];
    const scratch = (spec: Spec): void => {
      spec.process!.capabilities = { bounding: caps, effective: caps, permitted: caps };
      spec.mounts!.push({ destination: '/scratch', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] });
    };
    const denied = await inside(t, script, scratch);
    const [null2, mknod, refused] = denied.trim().split('\n');
    assert.equal(null2, 'null2-ok');
    assert.equal(mknod, 'mknod-ok');
    assert.match(refused ?? '', /Operation not permitted/);

    const allowed = await inside(t, script, (spec) => {
      scratch(spec);
      spec.linux!.resources!.devices!.push({ allow: true, type: 'b', major: 7, minor: 0, access: 'r' });
    });
    const lastLine = allowed.trim().split('\n')[2] ?? '';
    assert.doesNotMatch(lastLine, /Operation not permitted/, 'the rule allowing 7:0 was not applied');
  });

  test('in a user namespace the devices are the host\'s nodes, bound in', async (t) => {
    const out = await inside(
      t,
      `${STAT} /dev/null /dev/zero; echo x > /dev/null && echo null-ok; grep -E " /dev/(null|zero|tty) " /proc/self/mountinfo`,
      (spec) => {
        spec.linux!.namespaces!.push({ type: 'user' });
        spec.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
        spec.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      },
      (dir, rootfs) => {
        chmodSync(dir, 0o755);
        execFileSync('chown', ['-R', '100000:100000', rootfs]);
      },
    );
    const lines = out.trim().split('\n');
    // Host root owns them, which the namespace does not map: nobody/nogroup inside.
    assert.deepEqual(lines.slice(0, 2), ['/dev/null character special file 1:3 666 65534:65534', '/dev/zero character special file 1:5 666 65534:65534']);
    assert.equal(lines[2], 'null-ok');
    const binds = lines.slice(3);
    assert.equal(binds.length, 3, binds.join('\n'));
    for (const b of binds) assert.match(b, /^\d+ \d+ \d+:\d+ \/(null|zero|tty) \/dev\/(null|zero|tty) /);
  });
});
