import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { ARCHES } from '../../../src/runtime/seccomp/arch.ts';
import { defaultSeccompProfile } from '../../../src/runtime/seccomp/index.ts';
import { Filter } from './helpers.ts';

const CLONE_NEWUSER = 0x10000000n;
const CLONE_NEWNET = 0x40000000n;
const SIGCHLD = 17n;
const CLONE_THREAD_FLAGS = 0x3d0f00n; // what pthread_create passes
const AF_INET = 2n;
const AF_VSOCK = 40n;

const filter = (caps: string[], nativeArch: 'x86_64' | 'aarch64' = 'x86_64'): Filter =>
  new Filter(defaultSeccompProfile({ capabilities: caps, nativeArch }), nativeArch);

describe('default seccomp profile', () => {
  const plain = filter(['CAP_CHOWN', 'CAP_SETUID', 'CAP_SETGID', 'CAP_NET_BIND_SERVICE']);
  const admin = filter(['CAP_SYS_ADMIN']);

  it('allows what ordinary programs need and denies the rest with EPERM', () => {
    for (const name of ['read', 'write', 'openat', 'mmap', 'execve', 'exit_group', 'futex', 'epoll_wait', 'io_uring_setup']) {
      assert.equal(plain.call('x86_64', name), 'ALLOW', name);
    }
    for (const name of ['kexec_load', 'swapon', 'pivot_root', 'keyctl', 'add_key', 'userfaultfd', 'init_module']) {
      assert.equal(plain.call('x86_64', name), 'ERRNO(1)', name);
    }
  });

  it('denies mount, umount2, unshare and setns without CAP_SYS_ADMIN and allows them with it', () => {
    for (const name of ['mount', 'umount2', 'unshare', 'setns', 'bpf', 'fsopen', 'sethostname']) {
      assert.equal(plain.call('x86_64', name), 'ERRNO(1)', name);
      assert.equal(admin.call('x86_64', name), 'ALLOW', name);
    }
  });

  it('allows clone without namespace flags only, unless CAP_SYS_ADMIN', () => {
    assert.equal(plain.call('x86_64', 'clone', [SIGCHLD]), 'ALLOW');
    assert.equal(plain.call('x86_64', 'clone', [CLONE_THREAD_FLAGS]), 'ALLOW');
    assert.equal(plain.call('x86_64', 'clone', [CLONE_NEWUSER | SIGCHLD]), 'ERRNO(1)');
    assert.equal(plain.call('x86_64', 'clone', [CLONE_NEWNET]), 'ERRNO(1)');
    assert.equal(plain.call('x86', 'clone', [CLONE_NEWUSER]), 'ERRNO(1)');
    assert.equal(admin.call('x86_64', 'clone', [CLONE_NEWUSER | SIGCHLD]), 'ALLOW');
  });

  it('makes clone3 fail with ENOSYS without CAP_SYS_ADMIN, so libcs fall back to clone', () => {
    assert.equal(plain.call('x86_64', 'clone3'), 'ERRNO(38)');
    assert.equal(admin.call('x86_64', 'clone3'), 'ALLOW');
  });

  it('allows ptrace (kernels >= 4.8) and gates kcmp and pidfd_getfd on CAP_SYS_PTRACE', () => {
    const tracer = filter(['CAP_SYS_PTRACE']);
    assert.equal(plain.call('x86_64', 'ptrace'), 'ALLOW');
    assert.equal(plain.call('x86_64', 'process_vm_readv'), 'ALLOW');
    assert.equal(plain.call('x86_64', 'kcmp'), 'ERRNO(1)');
    assert.equal(plain.call('x86_64', 'pidfd_getfd'), 'ERRNO(1)');
    assert.equal(tracer.call('x86_64', 'kcmp'), 'ALLOW');
    assert.equal(tracer.call('x86_64', 'pidfd_getfd'), 'ALLOW');
  });

  it('gates modules, time, reboot, chroot and raw I/O on their capabilities', () => {
    const cases: [string, string][] = [
      ['CAP_SYS_MODULE', 'finit_module'],
      ['CAP_SYS_TIME', 'settimeofday'],
      ['CAP_SYS_BOOT', 'reboot'],
      ['CAP_SYS_CHROOT', 'chroot'],
      ['CAP_SYS_RAWIO', 'iopl'],
      ['CAP_SYS_PACCT', 'acct'],
      ['CAP_SYS_NICE', 'mbind'],
      ['CAP_SYSLOG', 'syslog'],
      ['CAP_DAC_READ_SEARCH', 'open_by_handle_at'],
      ['CAP_PERFMON', 'perf_event_open'],
      ['CAP_BPF', 'bpf'],
    ];
    for (const [cap, name] of cases) {
      assert.equal(plain.call('x86_64', name), 'ERRNO(1)', `${name} without ${cap}`);
      assert.equal(filter([cap]).call('x86_64', name), 'ALLOW', `${name} with ${cap}`);
    }
  });

  it('accepts capability names without the CAP_ prefix', () => {
    assert.equal(filter(['sys_admin']).call('x86_64', 'mount'), 'ALLOW');
  });

  it('denies AF_VSOCK sockets and allows the others', () => {
    assert.equal(plain.call('x86_64', 'socket', [AF_INET]), 'ALLOW');
    assert.equal(plain.call('x86_64', 'socket', [AF_VSOCK]), 'ERRNO(1)');
    assert.equal(plain.call('x86', 'socket', [AF_VSOCK]), 'ERRNO(1)');
  });

  it('allows only the personalities that keep Linux semantics', () => {
    for (const p of [0n, 8n, 0x20000n, 0x20008n, 0xffffffffn]) assert.equal(plain.call('x86_64', 'personality', [p]), 'ALLOW');
    assert.equal(plain.call('x86_64', 'personality', [0x40000n]), 'ERRNO(1)', 'ADDR_NO_RANDOMIZE');
  });

  it('covers the i386 and x32 companions on x86_64 and arm on aarch64', () => {
    assert.equal(plain.call('x86', 'read'), 'ALLOW');
    assert.equal(plain.call('x32', 'read'), 'ALLOW');
    assert.equal(plain.call('x86_64', 'arch_prctl'), 'ALLOW');
    const arm = filter([], 'aarch64');
    assert.equal(arm.call('aarch64', 'read'), 'ALLOW');
    assert.equal(arm.call('arm', 'set_tls'), 'ALLOW');
    assert.equal(arm.call('arm', 'mount'), 'ERRNO(1)');
    assert.equal(arm.raw(ARCHES.x86_64.auditArch, 0), 'KILL_THREAD');
  });
});
