/**
 * Kernel ABI constants for seccomp filters: return actions
 * (linux/seccomp.h), audit architecture tokens (linux/audit.h), filter flags
 * and the classic BPF opcodes (linux/filter.h, linux/bpf_common.h). These are
 * stable UAPI values; each names the header it comes from.
 */

/** SECCOMP_RET_* (linux/seccomp.h). The low 16 bits carry data. */
export const SECCOMP_RET = {
  KILL_PROCESS: 0x80000000,
  KILL_THREAD: 0x00000000,
  TRAP: 0x00030000,
  ERRNO: 0x00050000,
  USER_NOTIF: 0x7fc00000,
  TRACE: 0x7ff00000,
  LOG: 0x7ffc0000,
  ALLOW: 0x7fff0000,
} as const;

export const SECCOMP_RET_DATA = 0x0000ffff;

/** SECCOMP_FILTER_FLAG_* (linux/seccomp.h). */
export const SECCOMP_FILTER_FLAG = {
  TSYNC: 1,
  LOG: 2,
  SPEC_ALLOW: 4,
  NEW_LISTENER: 8,
  TSYNC_ESRCH: 16,
  WAIT_KILLABLE_RECV: 32,
} as const;

/** AUDIT_ARCH_* (linux/audit.h): EM_* | __AUDIT_ARCH_64BIT | __AUDIT_ARCH_LE. */
export const AUDIT_ARCH = {
  X86_64: 0xc000003e,
  I386: 0x40000003,
  AARCH64: 0xc00000b7,
  ARM: 0x40000028,
} as const;

/** __X32_SYSCALL_BIT (asm/unistd.h on x86): set in every x32 syscall number. */
export const X32_SYSCALL_BIT = 0x40000000;

/** struct seccomp_data offsets (linux/seccomp.h), little-endian hosts. */
export const SECCOMP_DATA = {
  nr: 0,
  arch: 4,
  instructionPointer: 8,
  argLow: (index: number): number => 16 + 8 * index,
  argHigh: (index: number): number => 20 + 8 * index,
} as const;

/** Classic BPF opcodes used by the compiler (linux/bpf_common.h). */
export const BPF = {
  LD_W_ABS: 0x20, // BPF_LD | BPF_W | BPF_ABS
  ALU_AND_K: 0x54, // BPF_ALU | BPF_AND | BPF_K
  JMP_JA: 0x05, // BPF_JMP | BPF_JA
  JMP_JEQ_K: 0x15, // BPF_JMP | BPF_JEQ | BPF_K
  JMP_JGT_K: 0x25, // BPF_JMP | BPF_JGT | BPF_K
  JMP_JGE_K: 0x35, // BPF_JMP | BPF_JGE | BPF_K
  RET_K: 0x06, // BPF_RET | BPF_K
} as const;

/** BPF_MAXINSNS (linux/bpf_common.h): the kernel rejects longer classic programs. */
export const BPF_MAXINSNS = 4096;

/** Conditional jump offsets are 8 bits (struct sock_filter jt/jf). */
export const BPF_MAX_COND_JUMP = 255;
