/** runc's rule for mounts over /proc (CVE-2019-16884), as the plan compiler applies it. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isBerthError } from '../../../../src/errors.ts';
import { OpFlag } from '../../../../src/runtime/plan/opcodes.ts';
import { ALLOWED_PROC_MOUNTS, procMountFlags } from '../../../../src/runtime/plan/proc-mounts.ts';

describe('CVE-2019-16884: mounts over /proc', () => {
  test('proc on /proc, on an ordinary directory; a bind of a proc file system too', () => {
    assert.equal(procMountFlags('mounts[0]', '/proc', 'proc', undefined), OpFlag.NO_SYMLINKS);
    assert.equal(procMountFlags('mounts[0]', '/proc', '', '/proc'), 0);
  });

  test('anything else on /proc is refused by field', () => {
    for (const [fstype, source] of [['tmpfs', undefined], ['', '/tmp']] as const) {
      assert.throws(
        () => procMountFlags('mounts[2]', '/proc', fstype, source),
        (err: unknown) => isBerthError(err, 'mount_over_proc') && /^mounts\[2\]\.destination: only a proc file system may be mounted on "\/proc"/.test(err.message),
      );
    }
  });

  test('inside /proc only the files lxcfs emulates', () => {
    for (const dest of ALLOWED_PROC_MOUNTS) assert.equal(procMountFlags('mounts[1]', dest, '', '/var/lib/lxcfs/proc/x'), 0);
    for (const dest of ['/proc/self/attr', '/proc/sys', '/proc/1/root', '/proc/cpuinfo/x']) {
      assert.throws(
        () => procMountFlags('mounts[1]', dest, 'tmpfs', undefined),
        (err: unknown) => isBerthError(err, 'mount_inside_proc') && err.message.startsWith(`mounts[1].destination: "${dest}" is inside /proc`),
      );
    }
  });

  test('elsewhere: the executor refuses a target that resolves onto proc; proc and sysfs not through symlinks', () => {
    assert.equal(procMountFlags('mounts[3]', '/data', 'tmpfs', undefined), OpFlag.NOT_ON_PROC);
    assert.equal(procMountFlags('mounts[3]', '/processes', '', '/srv'), OpFlag.NOT_ON_PROC);
    assert.equal(procMountFlags('mounts[3]', '/sys', 'sysfs', undefined), OpFlag.NOT_ON_PROC | OpFlag.NO_SYMLINKS);
    assert.equal(procMountFlags('mounts[3]', '/host-proc', 'proc', undefined), OpFlag.NOT_ON_PROC | OpFlag.NO_SYMLINKS);
  });
});
