/**
 * compileSeccompFor in a resident process: an equal profile (another
 * object, as each exec reads the container's state anew) gets the program
 * compiled before; another profile its own; a refused profile is refused
 * every time.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isBerthError } from '../../../../src/errors.ts';
import type { LinuxSeccomp } from '../../../../src/oci/runtime-spec.ts';
import { compileSeccompFor } from '../../../../src/runtime/lifecycle/seccomp.ts';

const profile = (errno: number): LinuxSeccomp => ({
  defaultAction: 'SCMP_ACT_ALLOW',
  syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO', errnoRet: errno }],
});

test('an equal profile gets the program compiled before; another profile its own', async () => {
  const first = await compileSeccompFor(profile(1));
  assert.equal(await compileSeccompFor(profile(1)), first);
  const other = await compileSeccompFor(profile(2));
  assert.notEqual(other, first);
  assert.notDeepEqual(other.program, first.program);
});

test('a refused profile is refused every time', async () => {
  const bad: LinuxSeccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['write'], action: 'SCMP_ACT_NOTIFY' }], listenerPath: '/run/l.sock' };
  for (let i = 0; i < 2; i++) await assert.rejects(compileSeccompFor(bad), (err) => isBerthError(err, 'seccomp_notify_runtime_syscall'));
});
