/**
 * berth's default seccomp profile for containers the engine creates. It has
 * the semantics of Docker's default profile (documented in Docker's
 * "Seccomp security profiles" page and defined in moby's
 * profiles/seccomp/default.json): deny with EPERM by default, allow the
 * syscalls ordinary programs need, and allow the dangerous ones only with the
 * capability that governs them. The data below is written for berth (grouped
 * by purpose) from those documented rules; no code or file was copied.
 *
 * Differences from Docker, on purpose:
 * - ptrace, process_vm_readv and process_vm_writev are allowed without
 *   CAP_SYS_PTRACE unconditionally; Docker does so on kernels >= 4.8 (where
 *   ptrace can no longer bypass seccomp), and berth requires newer kernels.
 * - Only the architectures berth compiles for (x86_64, aarch64) have
 *   arch-specific entries.
 */
import type { LinuxSeccomp, SeccompArg, SeccompSyscall } from '../../oci/runtime-spec.ts';
import { hostNativeArch, type NativeArch } from './arch.ts';
import { DOCKER_CAPS } from './docker-caps.ts';

export { DOCKER_CAPS };

const ENOSYS = 38;
const AF_VSOCK = 40;
/** CLONE_NEWNS|CLONE_NEWCGROUP|CLONE_NEWUTS|CLONE_NEWIPC|CLONE_NEWUSER|CLONE_NEWPID|CLONE_NEWNET */
const CLONE_NAMESPACE_FLAGS = 0x7e020000;

/** Allowed for every container, grouped by what they are for. */
const ALLOWED: Readonly<Record<string, readonly string[]>> = {
  files: [
    'access', 'chdir', 'chmod', 'chown', 'chown32', 'close', 'close_range', 'creat', 'faccessat', 'faccessat2',
    'fadvise64', 'fadvise64_64', 'fallocate', 'fchdir', 'fchmod', 'fchmodat', 'fchown', 'fchown32', 'fchownat',
    'fcntl', 'fcntl64', 'fdatasync', 'flock', 'fstat', 'fstat64', 'fstatat64', 'fstatfs', 'fstatfs64', 'fsync',
    'ftruncate', 'ftruncate64', 'futimesat', 'getcwd', 'getdents', 'getdents64', 'lchown', 'lchown32', 'link',
    'linkat', '_llseek', 'lseek', 'lstat', 'lstat64', 'mkdir', 'mkdirat', 'mknod', 'mknodat', 'name_to_handle_at',
    'newfstatat', 'open', 'openat', 'openat2', 'readlink', 'readlinkat', 'rename', 'renameat', 'renameat2', 'rmdir',
    'stat', 'stat64', 'statfs', 'statfs64', 'statx', 'symlink', 'symlinkat', 'sync', 'sync_file_range', 'syncfs',
    'truncate', 'truncate64', 'umask', 'unlink', 'unlinkat', 'utime', 'utimensat', 'utimensat_time64', 'utimes',
  ],
  xattrs: [
    'fgetxattr', 'flistxattr', 'fremovexattr', 'fsetxattr', 'getxattr', 'lgetxattr', 'listxattr', 'llistxattr',
    'lremovexattr', 'lsetxattr', 'removexattr', 'setxattr',
  ],
  io: [
    'copy_file_range', 'dup', 'dup2', 'dup3', 'ioctl', 'pipe', 'pipe2', 'pread64', 'preadv', 'preadv2', 'pwrite64',
    'pwritev', 'pwritev2', 'read', 'readahead', 'readv', 'sendfile', 'sendfile64', 'splice', 'tee', 'vmsplice',
    'write', 'writev',
  ],
  events: [
    '_newselect', 'epoll_create', 'epoll_create1', 'epoll_ctl', 'epoll_ctl_old', 'epoll_pwait', 'epoll_pwait2',
    'epoll_wait', 'epoll_wait_old', 'eventfd', 'eventfd2', 'fanotify_mark', 'inotify_add_watch', 'inotify_init',
    'inotify_init1', 'inotify_rm_watch', 'poll', 'ppoll', 'ppoll_time64', 'pselect6', 'pselect6_time64', 'select',
    'signalfd', 'signalfd4', 'timerfd_create', 'timerfd_gettime', 'timerfd_gettime64', 'timerfd_settime',
    'timerfd_settime64',
  ],
  asyncIo: [
    'io_cancel', 'io_destroy', 'io_getevents', 'io_pgetevents', 'io_pgetevents_time64', 'io_setup', 'io_submit',
    'io_uring_enter', 'io_uring_register', 'io_uring_setup', 'ioprio_get', 'ioprio_set',
  ],
  memory: [
    'brk', 'madvise', 'membarrier', 'memfd_create', 'memfd_secret', 'mincore', 'mlock', 'mlock2', 'mlockall', 'mmap',
    'mmap2', 'mprotect', 'mremap', 'msync', 'munlock', 'munlockall', 'munmap', 'pkey_alloc', 'pkey_free',
    'pkey_mprotect', 'remap_file_pages',
  ],
  processes: [
    'capget', 'capset', 'execve', 'execveat', 'exit', 'exit_group', 'fork', 'futex', 'futex_time64', 'futex_waitv',
    'get_robust_list', 'get_thread_area', 'getcpu', 'getpgid', 'getpgrp', 'getpid', 'getppid', 'getpriority',
    'getrandom', 'getrlimit', 'getrusage', 'getsid', 'gettid', 'landlock_add_rule', 'landlock_create_ruleset',
    'landlock_restrict_self', 'pidfd_open', 'pidfd_send_signal', 'prctl', 'prlimit64', 'process_mrelease',
    'restart_syscall', 'rseq', 'seccomp', 'set_robust_list', 'set_thread_area', 'set_tid_address', 'setpgid',
    'setpriority', 'setrlimit', 'setsid', 'sysinfo', 'times', 'ugetrlimit', 'uname', 'vfork', 'wait4', 'waitid',
    'waitpid',
  ],
  scheduling: [
    'sched_get_priority_max', 'sched_get_priority_min', 'sched_getaffinity', 'sched_getattr', 'sched_getparam',
    'sched_getscheduler', 'sched_rr_get_interval', 'sched_rr_get_interval_time64', 'sched_setaffinity',
    'sched_setattr', 'sched_setparam', 'sched_setscheduler', 'sched_yield',
  ],
  credentials: [
    'getegid', 'getegid32', 'geteuid', 'geteuid32', 'getgid', 'getgid32', 'getgroups', 'getgroups32', 'getresgid',
    'getresgid32', 'getresuid', 'getresuid32', 'getuid', 'getuid32', 'setfsgid', 'setfsgid32', 'setfsuid',
    'setfsuid32', 'setgid', 'setgid32', 'setgroups', 'setgroups32', 'setregid', 'setregid32', 'setresgid',
    'setresgid32', 'setresuid', 'setresuid32', 'setreuid', 'setreuid32', 'setuid', 'setuid32',
  ],
  signals: [
    'kill', 'pause', 'rt_sigaction', 'rt_sigpending', 'rt_sigprocmask', 'rt_sigqueueinfo', 'rt_sigreturn',
    'rt_sigsuspend', 'rt_sigtimedwait', 'rt_sigtimedwait_time64', 'rt_tgsigqueueinfo', 'sigaltstack', 'sigprocmask',
    'sigreturn', 'tgkill', 'tkill',
  ],
  time: [
    'adjtimex', 'alarm', 'clock_adjtime', 'clock_adjtime64', 'clock_getres', 'clock_getres_time64', 'clock_gettime',
    'clock_gettime64', 'clock_nanosleep', 'clock_nanosleep_time64', 'getitimer', 'gettimeofday', 'nanosleep',
    'setitimer', 'time', 'timer_create', 'timer_delete', 'timer_getoverrun', 'timer_gettime', 'timer_gettime64',
    'timer_settime', 'timer_settime64',
  ],
  // socket(2) itself is below, with AF_VSOCK excluded.
  network: [
    'accept', 'accept4', 'bind', 'connect', 'getpeername', 'getsockname', 'getsockopt', 'listen', 'recv', 'recvfrom',
    'recvmmsg', 'recvmmsg_time64', 'recvmsg', 'send', 'sendmmsg', 'sendmsg', 'sendto', 'setsockopt', 'shutdown',
    'socketcall', 'socketpair',
  ],
  ipc: [
    'ipc', 'mq_getsetattr', 'mq_notify', 'mq_open', 'mq_timedreceive', 'mq_timedreceive_time64', 'mq_timedsend',
    'mq_timedsend_time64', 'mq_unlink', 'msgctl', 'msgget', 'msgrcv', 'msgsnd', 'semctl', 'semget', 'semop',
    'semtimedop', 'semtimedop_time64', 'shmat', 'shmctl', 'shmdt', 'shmget',
  ],
  // Safe since Linux 4.8, where ptrace can no longer bypass seccomp.
  tracing: ['process_vm_readv', 'process_vm_writev', 'ptrace'],
};

/** Allowed only on one native architecture (and its companion ABIs). */
const ALLOWED_ON: Readonly<Record<NativeArch, readonly string[]>> = {
  x86_64: ['arch_prctl', 'modify_ldt'],
  aarch64: ['arm_fadvise64_64', 'arm_sync_file_range', 'breakpoint', 'cacheflush', 'set_tls', 'sync_file_range2'],
};

/** Allowed when the container holds the capability that governs them. */
const ALLOWED_WITH: Readonly<Record<string, readonly string[]>> = {
  CAP_DAC_READ_SEARCH: ['open_by_handle_at'],
  CAP_SYS_ADMIN: [
    'bpf', 'clone', 'clone3', 'fanotify_init', 'fsconfig', 'fsmount', 'fsopen', 'fspick', 'lookup_dcookie', 'mount',
    'mount_setattr', 'move_mount', 'open_tree', 'perf_event_open', 'quotactl', 'quotactl_fd', 'setdomainname',
    'sethostname', 'setns', 'syslog', 'umount', 'umount2', 'unshare',
  ],
  CAP_SYS_BOOT: ['reboot'],
  CAP_SYS_CHROOT: ['chroot'],
  CAP_SYS_MODULE: ['delete_module', 'finit_module', 'init_module'],
  CAP_SYS_PACCT: ['acct'],
  CAP_SYS_PTRACE: ['kcmp', 'pidfd_getfd', 'process_madvise', 'process_vm_readv', 'process_vm_writev', 'ptrace'],
  CAP_SYS_RAWIO: ['ioperm', 'iopl'],
  CAP_SYS_TIME: ['clock_settime', 'clock_settime64', 'settimeofday', 'stime'],
  CAP_SYS_TTY_CONFIG: ['vhangup'],
  CAP_SYS_NICE: ['get_mempolicy', 'mbind', 'set_mempolicy', 'set_mempolicy_home_node'],
  CAP_SYSLOG: ['syslog'],
  CAP_BPF: ['bpf'],
  CAP_PERFMON: ['perf_event_open'],
};

/** personality(2) values that only query or keep the Linux personality. */
const PERSONALITIES = [0x0, 0x8, 0x20000, 0x20008, 0xffffffff];

const ARCHITECTURES: Readonly<Record<NativeArch, string[]>> = {
  x86_64: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
  aarch64: ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM'],
};

const allow = (names: readonly string[], args?: SeccompArg[]): SeccompSyscall =>
  args === undefined ? { names: [...names], action: 'SCMP_ACT_ALLOW' } : { names: [...names], action: 'SCMP_ACT_ALLOW', args };

function normalizeCapability(cap: string): string {
  const upper = cap.toUpperCase();
  return upper.startsWith('CAP_') ? upper : `CAP_${upper}`;
}

export interface DefaultProfileOptions {
  /** The container's capabilities (bounding set), e.g. "CAP_SYS_ADMIN"; the prefix is optional. */
  capabilities: readonly string[];
  nativeArch?: NativeArch;
}

export function defaultSeccompProfile(options: DefaultProfileOptions): LinuxSeccomp {
  const arch = options.nativeArch ?? hostNativeArch();
  const caps = new Set(options.capabilities.map(normalizeCapability));
  const syscalls: SeccompSyscall[] = [allow(Object.values(ALLOWED).flat()), allow(ALLOWED_ON[arch])];

  syscalls.push(allow(['socket'], [{ index: 0, value: AF_VSOCK, op: 'SCMP_CMP_NE' }]));
  for (const value of PERSONALITIES) syscalls.push(allow(['personality'], [{ index: 0, value, op: 'SCMP_CMP_EQ' }]));

  for (const [cap, names] of Object.entries(ALLOWED_WITH)) {
    if (caps.has(cap)) syscalls.push(allow(names));
  }
  if (!caps.has('CAP_SYS_ADMIN')) {
    // Without CAP_SYS_ADMIN: clone without namespace flags only, and clone3
    // (whose flags live in memory seccomp cannot read) fails with ENOSYS so
    // that libcs fall back to clone.
    syscalls.push(allow(['clone'], [{ index: 0, value: CLONE_NAMESPACE_FLAGS, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }]));
    syscalls.push({ names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: ENOSYS });
  }

  return {
    defaultAction: 'SCMP_ACT_ERRNO',
    defaultErrnoRet: 1,
    architectures: [...ARCHITECTURES[arch]],
    syscalls,
  };
}
