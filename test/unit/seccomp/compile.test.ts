import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { isBerthError } from '../../../src/errors.ts';
import type { LinuxSeccomp, SeccompOperator } from '../../../src/oci/runtime-spec.ts';
import { ARCHES } from '../../../src/runtime/seccomp/arch.ts';
import { compileSeccomp } from '../../../src/runtime/seccomp/index.ts';
import { decode } from './bpf-interpreter.ts';
import { Filter, nr } from './helpers.ts';

const X86_64 = ['SCMP_ARCH_X86_64'];
const AUDIT_ARCH_PPC64LE = 0xc0000015;

function expectInvalid(profile: unknown, message: string): void {
  assert.throws(
    () => compileSeccomp(profile as LinuxSeccomp, { nativeArch: 'x86_64' }),
    (err: unknown) => {
      assert.ok(isBerthError(err), `not a BerthError: ${String(err)}`);
      assert.equal(err.kind, 'invalid_argument');
      assert.equal(err.message, message);
      return true;
    },
  );
}

describe('seccomp compiler: actions', () => {
  const filter = new Filter({
    defaultAction: 'SCMP_ACT_ALLOW',
    architectures: X86_64,
    listenerPath: '/run/listener.sock',
    syscalls: [
      { names: ['getpid'], action: 'SCMP_ACT_KILL' },
      { names: ['getppid'], action: 'SCMP_ACT_KILL_PROCESS' },
      { names: ['gettid'], action: 'SCMP_ACT_KILL_THREAD' },
      { names: ['getuid'], action: 'SCMP_ACT_TRAP' },
      { names: ['mkdir'], action: 'SCMP_ACT_ERRNO' },
      { names: ['rmdir'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 },
      { names: ['chmod'], action: 'SCMP_ACT_TRACE', errnoRet: 1234 },
      { names: ['chown'], action: 'SCMP_ACT_TRACE' },
      { names: ['uname'], action: 'SCMP_ACT_LOG' },
      { names: ['mount'], action: 'SCMP_ACT_NOTIFY' },
    ],
  });

  it('encodes every action with its data', () => {
    assert.equal(filter.call('x86_64', 'getpid'), 'KILL_THREAD');
    assert.equal(filter.call('x86_64', 'getppid'), 'KILL_PROCESS');
    assert.equal(filter.call('x86_64', 'gettid'), 'KILL_THREAD');
    assert.equal(filter.call('x86_64', 'getuid'), 'TRAP(0)');
    assert.equal(filter.call('x86_64', 'mkdir'), 'ERRNO(1)', 'ERRNO without errnoRet is EPERM, as in runc');
    assert.equal(filter.call('x86_64', 'rmdir'), 'ERRNO(38)');
    assert.equal(filter.call('x86_64', 'chmod'), 'TRACE(1234)');
    assert.equal(filter.call('x86_64', 'chown'), 'TRACE(1)', 'TRACE without errnoRet carries EPERM, as in runc');
    assert.equal(filter.call('x86_64', 'uname'), 'LOG');
    assert.equal(filter.call('x86_64', 'mount'), 'NOTIFY');
    assert.equal(filter.call('x86_64', 'read'), 'ALLOW');
  });

  it('uses defaultErrnoRet for the default action', () => {
    const f = new Filter({ defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 38, syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW' }] });
    assert.equal(f.call('x86_64', 'write'), 'ERRNO(38)');
    assert.equal(f.call('x86_64', 'read'), 'ALLOW');
  });

  it('skips rules whose action is the default action, as runc does', () => {
    const f = new Filter({
      defaultAction: 'SCMP_ACT_ERRNO',
      syscalls: [
        { names: ['kill'], action: 'SCMP_ACT_ERRNO', args: [{ index: 1, value: 9, op: 'SCMP_CMP_EQ' }] },
        { names: ['kill'], action: 'SCMP_ACT_ALLOW', args: [{ index: 1, value: 20, op: 'SCMP_CMP_LT' }] },
      ],
    });
    assert.equal(f.call('x86_64', 'kill', [1n, 9n]), 'ALLOW');
    assert.equal(f.call('x86_64', 'kill', [1n, 25n]), 'ERRNO(1)');
  });
});

describe('seccomp compiler: argument conditions', () => {
  const value = 0x1_0000_0005n;
  const probes = [0n, 5n, 6n, value - 1n, value, value + 1n, 0x2_0000_0000n, 0x2_0000_0005n, 0xffff_ffff_0000_0005n, (1n << 64n) - 1n];
  const holds: Record<SeccompOperator, (a: bigint) => boolean> = {
    SCMP_CMP_NE: (a) => a !== value,
    SCMP_CMP_LT: (a) => a < value,
    SCMP_CMP_LE: (a) => a <= value,
    SCMP_CMP_EQ: (a) => a === value,
    SCMP_CMP_GE: (a) => a >= value,
    SCMP_CMP_GT: (a) => a > value,
    SCMP_CMP_MASKED_EQ: () => false,
  };

  for (const op of ['SCMP_CMP_NE', 'SCMP_CMP_LT', 'SCMP_CMP_LE', 'SCMP_CMP_EQ', 'SCMP_CMP_GE', 'SCMP_CMP_GT'] as const) {
    it(`${op} compares all 64 bits on x86_64 (both halves)`, () => {
      const f = new Filter({
        defaultAction: 'SCMP_ACT_ERRNO',
        syscalls: [{ names: ['lseek'], action: 'SCMP_ACT_ALLOW', args: [{ index: 2, value: Number(value), op }] }],
      });
      for (const a of probes) {
        assert.equal(f.call('x86_64', 'lseek', [0n, 0n, a]), holds[op](a) ? 'ALLOW' : 'ERRNO(1)', `${op} with 0x${a.toString(16)}`);
      }
    });
  }

  it('compares only the low 32 bits on 32-bit ABIs, truncating the value like libseccomp', () => {
    const f = new Filter({
      defaultAction: 'SCMP_ACT_ERRNO',
      architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86'],
      syscalls: [{ names: ['lseek'], action: 'SCMP_ACT_ALLOW', args: [{ index: 1, value: Number(value), op: 'SCMP_CMP_EQ' }] }],
    });
    assert.equal(f.call('x86', 'lseek', [0n, 5n]), 'ALLOW');
    assert.equal(f.call('x86', 'lseek', [0n, 6n]), 'ERRNO(1)');
    assert.equal(f.call('x86_64', 'lseek', [0n, 5n]), 'ERRNO(1)');
    assert.equal(f.call('x86_64', 'lseek', [0n, value]), 'ALLOW');
  });

  it('MASKED_EQ compares (arg & value) with (valueTwo & value) on both halves', () => {
    const f = new Filter({
      defaultAction: 'SCMP_ACT_ERRNO',
      syscalls: [
        { names: ['mmap'], action: 'SCMP_ACT_ALLOW', args: [{ index: 3, value: 0xff_0000_00ff, valueTwo: 0x12_0000_0034, op: 'SCMP_CMP_MASKED_EQ' }] },
        // valueTwo has bits outside the mask: they are ignored (libseccomp's rule).
        { names: ['mprotect'], action: 'SCMP_ACT_ALLOW', args: [{ index: 2, value: 0x4, valueTwo: 0xff, op: 'SCMP_CMP_MASKED_EQ' }] },
        // A zero mask always matches.
        { names: ['munmap'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 0, valueTwo: 7, op: 'SCMP_CMP_MASKED_EQ' }] },
      ],
    });
    assert.equal(f.call('x86_64', 'mmap', [0n, 0n, 0n, 0x12_0000_0034n]), 'ALLOW');
    assert.equal(f.call('x86_64', 'mmap', [0n, 0n, 0n, 0xab12_ffff_ff34n]), 'ALLOW');
    assert.equal(f.call('x86_64', 'mmap', [0n, 0n, 0n, 0x13_0000_0034n]), 'ERRNO(1)', 'high half differs');
    assert.equal(f.call('x86_64', 'mmap', [0n, 0n, 0n, 0x12_0000_0035n]), 'ERRNO(1)', 'low half differs');
    assert.equal(f.call('x86_64', 'mprotect', [0n, 0n, 0x7n]), 'ALLOW');
    assert.equal(f.call('x86_64', 'mprotect', [0n, 0n, 0x3n]), 'ERRNO(1)');
    assert.equal(f.call('x86_64', 'munmap', [12345n]), 'ALLOW');
  });

  it('ANDs the conditions of one rule and ORs rules for the same syscall', () => {
    const f = new Filter({
      defaultAction: 'SCMP_ACT_ERRNO',
      syscalls: [
        { names: ['setpriority'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 0, op: 'SCMP_CMP_EQ' }, { index: 2, value: 10, op: 'SCMP_CMP_LT' }] },
        { names: ['setpriority'], action: 'SCMP_ACT_ALLOW', args: [{ index: 1, value: 42, op: 'SCMP_CMP_EQ' }] },
      ],
    });
    assert.equal(f.call('x86_64', 'setpriority', [0n, 0n, 5n]), 'ALLOW');
    assert.equal(f.call('x86_64', 'setpriority', [0n, 0n, 15n]), 'ERRNO(1)');
    assert.equal(f.call('x86_64', 'setpriority', [1n, 0n, 5n]), 'ERRNO(1)');
    assert.equal(f.call('x86_64', 'setpriority', [1n, 42n, 99n]), 'ALLOW');
  });

  it('ORs conditions that repeat an argument index, as runc and crun do', () => {
    const f = new Filter({
      defaultAction: 'SCMP_ACT_ERRNO',
      syscalls: [{ names: ['dup'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 3, op: 'SCMP_CMP_LE' }, { index: 0, value: 100, op: 'SCMP_CMP_GE' }] }],
    });
    assert.equal(f.call('x86_64', 'dup', [2n]), 'ALLOW');
    assert.equal(f.call('x86_64', 'dup', [200n]), 'ALLOW');
    assert.equal(f.call('x86_64', 'dup', [50n]), 'ERRNO(1)');
  });

  it('lets an unconditional rule override conditional ones, whatever the order (libseccomp)', () => {
    const f = new Filter({
      defaultAction: 'SCMP_ACT_ERRNO',
      syscalls: [
        { names: ['ioctl'], action: 'SCMP_ACT_ERRNO', errnoRet: 25, args: [{ index: 1, value: 0x5412, op: 'SCMP_CMP_EQ' }] },
        { names: ['ioctl', 'fcntl'], action: 'SCMP_ACT_ALLOW' },
        { names: ['fcntl'], action: 'SCMP_ACT_LOG', args: [{ index: 1, value: 4, op: 'SCMP_CMP_EQ' }] },
        { names: ['fcntl'], action: 'SCMP_ACT_KILL' },
      ],
    });
    assert.equal(f.call('x86_64', 'ioctl', [1n, 0x5412n]), 'ALLOW');
    assert.equal(f.call('x86_64', 'fcntl', [1n, 4n]), 'ALLOW');
  });
});

describe('seccomp compiler: architectures', () => {
  it('gives a syscall of an unlisted architecture the bad-arch action (KILL)', () => {
    const f = new Filter({ defaultAction: 'SCMP_ACT_ALLOW', architectures: X86_64 });
    assert.equal(f.call('x86_64', 'read'), 'ALLOW');
    assert.equal(f.call('x86', 'read'), 'KILL_THREAD');
    assert.equal(f.call('arm', 'read'), 'KILL_THREAD');
    assert.equal(f.raw(AUDIT_ARCH_PPC64LE, 3), 'KILL_THREAD');
  });

  it('always accepts the native architecture, like runc (libseccomp keeps it)', () => {
    const f = new Filter({ defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86'] });
    assert.equal(f.call('x86_64', 'read'), 'ALLOW');
    assert.equal(f.call('x86', 'read'), 'ALLOW');
    const arm = new Filter({ defaultAction: 'SCMP_ACT_ALLOW' }, 'aarch64');
    assert.equal(arm.call('aarch64', 'read'), 'ALLOW');
    assert.equal(arm.call('x86_64', 'read'), 'KILL_THREAD');
  });

  it('keeps x32 syscalls out of x86_64 rules (x32 bit) and kills them when x32 is not listed', () => {
    const f = new Filter({ defaultAction: 'SCMP_ACT_ERRNO', architectures: X86_64, syscalls: [{ names: ['read', 'rt_sigaction'], action: 'SCMP_ACT_ALLOW' }] });
    assert.equal(f.call('x86_64', 'read'), 'ALLOW');
    assert.equal(f.call('x32', 'read'), 'KILL_THREAD');
    assert.equal(f.raw(ARCHES.x86_64.auditArch, 0x40000000 | nr('x86_64', 'rt_sigaction')), 'KILL_THREAD');
    assert.equal(f.raw(ARCHES.x86_64.auditArch, 0xffffffff), 'ERRNO(1)', 'syscall -1 is not an x32 syscall');
  });

  it('matches x32 syscalls only by their x32 numbers when x32 is listed', () => {
    const f = new Filter({
      defaultAction: 'SCMP_ACT_ERRNO',
      architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X32'],
      syscalls: [{ names: ['read', 'rt_sigaction'], action: 'SCMP_ACT_ALLOW' }],
    });
    assert.equal(f.call('x32', 'read'), 'ALLOW');
    assert.equal(f.call('x32', 'rt_sigaction'), 'ALLOW');
    // x32's rt_sigaction is 512|bit; the x86_64 number with the x32 bit is not it.
    assert.equal(f.raw(ARCHES.x86_64.auditArch, 0x40000000 | nr('x86_64', 'rt_sigaction')), 'ERRNO(1)');
    assert.equal(f.call('x32', 'write'), 'ERRNO(1)');
  });

  it('adds socketcall/ipc rules for socket and SysV IPC syscalls on i386, as libseccomp does', () => {
    const f = new Filter({
      defaultAction: 'SCMP_ACT_ERRNO',
      architectures: ['SCMP_ARCH_X86'],
      syscalls: [
        { names: ['socket'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 40, op: 'SCMP_CMP_NE' }] },
        { names: ['accept', 'semop'], action: 'SCMP_ACT_LOG' },
      ],
    });
    assert.equal(f.call('x86', 'socket', [2n]), 'ALLOW');
    assert.equal(f.call('x86', 'socket', [40n]), 'ERRNO(1)');
    // socketcall(SYS_SOCKET=1, ...): the condition on argument 0 became the sub-call.
    assert.equal(f.call('x86', 'socketcall', [1n]), 'ALLOW');
    assert.equal(f.call('x86', 'socketcall', [2n]), 'ERRNO(1)');
    assert.equal(f.call('x86', 'socketcall', [5n]), 'LOG', 'accept exists only as SYS_ACCEPT');
    assert.equal(f.call('x86', 'ipc', [1n]), 'LOG', 'semop exists only as ipc(SEMOP)');
    assert.equal(f.call('x86_64', 'accept'), 'LOG');
  });

  it('knows the ARM private syscalls', () => {
    const f = new Filter(
      { defaultAction: 'SCMP_ACT_ERRNO', architectures: ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM'], syscalls: [{ names: ['cacheflush', 'set_tls'], action: 'SCMP_ACT_ALLOW' }] },
      'aarch64',
    );
    assert.equal(f.raw(ARCHES.arm.auditArch, 0xf0002), 'ALLOW');
    assert.equal(f.raw(ARCHES.arm.auditArch, 0xf0005), 'ALLOW');
    assert.equal(f.raw(ARCHES.arm.auditArch, 0xf0001), 'ERRNO(1)');
  });

  it('skips names unknown on one architecture, and names unknown everywhere with a report (as runc)', () => {
    const f = new Filter({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['arch_prctl', 'set_tls'], action: 'SCMP_ACT_ALLOW' }] }, 'aarch64');
    assert.equal(f.call('aarch64', 'read'), 'ERRNO(1)');
    const out = compileSeccomp(
      { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ERRNO' }, { names: ['write', 'no_such_call'], action: 'SCMP_ACT_ERRNO' }] },
      { nativeArch: 'x86_64' },
    );
    assert.deepEqual(out.unknownSyscalls, ['no_such_call']);
    const g = new Filter({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['write', 'no_such_call'], action: 'SCMP_ACT_ERRNO' }] });
    assert.equal(g.call('x86_64', 'write'), 'ERRNO(1)');
    assert.equal(g.call('x86_64', 'read'), 'ALLOW');
  });

  it('accepts foreign architectures the spec allows without compiling for them', () => {
    const f = new Filter({ defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_S390X', 'SCMP_ARCH_PPC64LE'] });
    assert.equal(f.raw(AUDIT_ARCH_PPC64LE, 3), 'KILL_THREAD');
  });
});

describe('seccomp compiler: flags and notification', () => {
  it('maps the spec flags to SECCOMP_FILTER_FLAG_* bits', () => {
    const out = compileSeccomp(
      { defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_TSYNC', 'SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW'] },
      { nativeArch: 'x86_64' },
    );
    assert.equal(out.flags, 1 | 2 | 4);
    assert.equal(out.notify, false);
    assert.equal(out.listenerPath, undefined);
  });

  it('sets NEW_LISTENER (and TSYNC_ESRCH with TSYNC) when a rule notifies, and passes the listener through', () => {
    const out = compileSeccomp(
      {
        defaultAction: 'SCMP_ACT_ALLOW',
        flags: ['SECCOMP_FILTER_FLAG_TSYNC'],
        listenerPath: '/run/agent.sock',
        listenerMetadata: 'pod=web',
        syscalls: [{ names: ['mount'], action: 'SCMP_ACT_NOTIFY' }],
      },
      { nativeArch: 'x86_64' },
    );
    assert.equal(out.notify, true);
    assert.equal(out.flags, 1 | 8 | 16);
    assert.equal(out.listenerPath, '/run/agent.sock');
    assert.equal(out.listenerMetadata, 'pod=web');
  });

  it('encodes struct sock_filter: 8 bytes each, starting with a load of seccomp_data.arch', () => {
    const out = compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW' }, { nativeArch: 'x86_64' });
    assert.equal(out.program.length % 8, 0);
    const first = decode(out.program)[0];
    assert.deepEqual(first, { code: 0x20, jt: 0, jf: 0, k: 4 });
  });
});

describe('seccomp compiler: jump and length limits', () => {
  it('inserts long jumps when a branch is farther than 255 instructions', () => {
    const syscalls = Array.from({ length: 120 }, (_, i) => ({
      names: ['ioctl'],
      action: 'SCMP_ACT_ERRNO' as const,
      errnoRet: 100 + i,
      args: [{ index: 1, value: 0x1_0000_0000 + i, op: 'SCMP_CMP_EQ' as const }],
    }));
    syscalls.push(...['read', 'write', 'close', 'openat', 'mmap'].map((n) => ({ names: [n], action: 'SCMP_ACT_ERRNO' as const, errnoRet: 7, args: [] })));
    const out = compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', syscalls }, { nativeArch: 'x86_64' });
    const insns = decode(out.program);
    assert.ok(insns.length > 600);
    assert.ok(insns.some((i) => i.code === 0x05), 'a long jump (ja) was inserted');
    const f = new Filter({ defaultAction: 'SCMP_ACT_ALLOW', syscalls });
    for (let i = 0; i < 120; i += 7) assert.equal(f.call('x86_64', 'ioctl', [0n, 0x1_0000_0000n + BigInt(i)]), `ERRNO(${100 + i})`);
    assert.equal(f.call('x86_64', 'ioctl', [0n, 5n]), 'ALLOW');
    for (const n of ['read', 'write', 'close', 'openat', 'mmap']) assert.equal(f.call('x86_64', n), 'ERRNO(7)');
    assert.equal(f.call('x86_64', 'getpid'), 'ALLOW');
  });

  it('refuses a filter longer than BPF_MAXINSNS (4096)', () => {
    const syscalls = Array.from({ length: 1100 }, (_, i) => ({
      names: ['ioctl'],
      action: 'SCMP_ACT_ERRNO' as const,
      args: [{ index: 1, value: i, op: 'SCMP_CMP_EQ' as const }],
    }));
    assert.throws(
      () => compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', syscalls }, { nativeArch: 'x86_64' }),
      (err: unknown) => isBerthError(err, 'seccomp_program_too_long') && /more than the kernel's limit of 4096/.test(err.message),
    );
  });
});

describe('seccomp compiler: invalid profiles name the field', () => {
  const rule = (extra: object): unknown => ({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ERRNO' }, { names: ['read'], action: 'SCMP_ACT_ERRNO' }, { names: ['read'], action: 'SCMP_ACT_ERRNO' }, { names: ['write'], action: 'SCMP_ACT_ERRNO', ...extra }] });

  it('rejects an unknown operator', () => {
    expectInvalid(rule({ args: [{ index: 0, value: 1, op: 'SCMP_CMP_FOO' }] }), 'linux.seccomp.syscalls[3].args[0].op: unknown operator "SCMP_CMP_FOO"');
  });
  it('rejects an argument index out of range', () => {
    expectInvalid(rule({ args: [{ index: 6, value: 1, op: 'SCMP_CMP_EQ' }] }), 'linux.seccomp.syscalls[3].args[0].index: must be an argument index from 0 to 5');
  });
  it('rejects negative and non-integer values', () => {
    expectInvalid(rule({ args: [{ index: 0, value: -1, op: 'SCMP_CMP_EQ' }] }), 'linux.seccomp.syscalls[3].args[0].value: -1 is negative; values are uint64');
    expectInvalid(rule({ args: [{ index: 0, value: 1.5, op: 'SCMP_CMP_EQ' }] }), 'linux.seccomp.syscalls[3].args[0].value: must be an unsigned integer');
  });
  it('rejects an unknown action and errnoRet on actions that carry none', () => {
    expectInvalid(rule({ action: 'SCMP_ACT_MAYBE' }), 'linux.seccomp.syscalls[3].action: unknown action "SCMP_ACT_MAYBE"');
    expectInvalid(rule({ action: 'SCMP_ACT_ALLOW', errnoRet: 1 }), 'linux.seccomp.syscalls[3].errnoRet: is only valid with SCMP_ACT_ERRNO and SCMP_ACT_TRACE, not SCMP_ACT_ALLOW');
    expectInvalid(rule({ errnoRet: 70000 }), 'linux.seccomp.syscalls[3].errnoRet: must be an integer from 0 to 65535');
  });
  it('rejects empty names', () => {
    expectInvalid(rule({ names: [] }), 'linux.seccomp.syscalls[3].names: must list at least one syscall');
    expectInvalid(rule({ names: ['read', ''] }), 'linux.seccomp.syscalls[3].names[1]: must be a non-empty syscall name');
  });
  it('rejects unknown architectures and flags', () => {
    expectInvalid({ defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_Z80'] }, 'linux.seccomp.architectures[1]: unknown architecture "SCMP_ARCH_Z80"');
    expectInvalid({ defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_FAST'] }, 'linux.seccomp.flags[0]: unknown flag "SECCOMP_FILTER_FLAG_FAST"');
  });
  it('rejects NOTIFY as the default action and NOTIFY without listenerPath', () => {
    expectInvalid({ defaultAction: 'SCMP_ACT_NOTIFY' }, 'linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action');
    expectInvalid({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mount'], action: 'SCMP_ACT_NOTIFY' }] }, 'linux.seccomp.listenerPath: is required when a rule uses SCMP_ACT_NOTIFY');
  });
  it('rejects a missing or malformed profile', () => {
    expectInvalid(null, 'linux.seccomp: must be an object');
    expectInvalid({}, 'linux.seccomp.defaultAction: must be a string');
    expectInvalid({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: {} }, 'linux.seccomp.syscalls: must be an array');
  });
});
