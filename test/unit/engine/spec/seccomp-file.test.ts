import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seccompFromFile } from '../../../../src/engine/spec/seccomp-file.ts';
import { throwsCode } from './helpers.ts';

/** A profile in Docker's format, with the parts moby settles per container. */
const DOCKER_PROFILE = {
  defaultAction: 'SCMP_ACT_ERRNO',
  defaultErrnoRet: 1,
  archMap: [
    { architecture: 'SCMP_ARCH_X86_64', subArchitectures: ['SCMP_ARCH_X86', 'SCMP_ARCH_X32'] },
    { architecture: 'SCMP_ARCH_AARCH64', subArchitectures: ['SCMP_ARCH_ARM'] },
  ],
  syscalls: [
    { names: ['read', 'write'], action: 'SCMP_ACT_ALLOW', comment: 'always' },
    { name: 'mount', action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_SYS_ADMIN'] } },
    { names: ['clone'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 2114060288, op: 'SCMP_CMP_MASKED_EQ' }], excludes: { caps: ['CAP_SYS_ADMIN'] } },
    { names: ['arch_prctl'], action: 'SCMP_ACT_ALLOW', includes: { arches: ['amd64'] } },
    { names: ['sync_file_range2'], action: 'SCMP_ACT_ALLOW', includes: { arches: ['arm64'] }, excludes: { arches: ['amd64'] } },
    { names: ['kexec_load'], action: 'SCMP_ACT_ERRNO', errnoRet: 38, includes: { minKernel: '4.8' } },
  ],
};

test('Docker\'s format: archMap, includes and excludes settled for the container\'s caps and architecture', () => {
  const text = JSON.stringify(DOCKER_PROFILE);
  const plain = seccompFromFile('/p.json', text, ['CAP_CHOWN'], 'x86_64');
  assert.deepEqual(plain, {
    defaultAction: 'SCMP_ACT_ERRNO',
    defaultErrnoRet: 1,
    architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
    syscalls: [
      { names: ['read', 'write'], action: 'SCMP_ACT_ALLOW' },
      { names: ['clone'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 2114060288, op: 'SCMP_CMP_MASKED_EQ' }] },
      { names: ['arch_prctl'], action: 'SCMP_ACT_ALLOW' },
      { names: ['kexec_load'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 },
    ],
  });
  const admin = seccompFromFile('/p.json', text, ['CAP_SYS_ADMIN'], 'aarch64');
  assert.deepEqual(admin.architectures, ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM']);
  assert.deepEqual(admin.syscalls?.map((s) => s.names[0]), ['read', 'mount', 'sync_file_range2', 'kexec_load']);
});

test('an OCI profile passes through as it is', () => {
  const oci = { defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64'], syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }] };
  assert.deepEqual(seccompFromFile('/o.json', JSON.stringify(oci), [], 'x86_64'), oci);
});

test('a bad profile is refused naming the file and the field', () => {
  throwsCode(() => seccompFromFile('/p.json', '{', [], 'x86_64'), 'run_flag_invalid', /--security-opt "seccomp=\/p\.json": not a JSON seccomp profile/);
  throwsCode(() => seccompFromFile('/p.json', '[]', [], 'x86_64'), 'run_flag_invalid', /must be a JSON object/);
  throwsCode(() => seccompFromFile('/p.json', '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[3]}', [], 'x86_64'), 'run_flag_invalid', /syscalls\[0\]: must be an object/);
  throwsCode(
    () => seccompFromFile('/p.json', JSON.stringify({ defaultAction: 'SCMP_ACT_MAYBE' }), [], 'x86_64'),
    'run_flag_invalid',
    /seccomp=\/p\.json.*linux\.seccomp\.defaultAction/,
  );
  throwsCode(
    () => seccompFromFile('/p.json', JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 1, op: 'SCMP_CMP_LOUDER' }] }] }), [], 'x86_64'),
    'run_flag_invalid',
    /syscalls\[0\]\.args\[0\]\.op/,
  );
});
