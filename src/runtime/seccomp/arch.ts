/**
 * The architectures the seccomp compiler knows: their audit token (what the
 * kernel puts in seccomp_data.arch), their argument width, and their syscall
 * table. x86_64 and x32 share one audit token and are told apart by the x32
 * bit in the syscall number, exactly as the kernel does.
 */
import { AUDIT_ARCH } from './constants.ts';
import { IPC_SUBCALLS, SOCKETCALL_SUBCALLS, SYSCALL_TABLES } from './syscalls.generated.ts';

export type ArchName = 'x86_64' | 'x86' | 'x32' | 'aarch64' | 'arm';
export type NativeArch = 'x86_64' | 'aarch64';

export interface ArchDef {
  name: ArchName;
  /** The runtime-spec / libseccomp name, e.g. SCMP_ARCH_X86_64. */
  scmpName: string;
  auditArch: number;
  /**
   * 64 when syscall arguments are compared on both 32-bit halves; 32 when
   * only the low half exists (i386, arm, and x32 whose longs are 32 bits,
   * as libseccomp treats them). Values are then truncated to 32 bits.
   */
  argBits: 32 | 64;
  /** Syscall name → number, from the generated table. */
  table: Readonly<Record<string, number>>;
  /** The same as a Map: lookups by arbitrary names stay fast (the tables are large). */
  numbers: ReadonlyMap<string, number>;
}

function arch(name: ArchName, scmpName: string, auditArch: number, argBits: 32 | 64): ArchDef {
  const table: Readonly<Record<string, number>> = SYSCALL_TABLES[name];
  return { name, scmpName, auditArch, argBits, table, numbers: new Map(Object.entries(table)) };
}

export const ARCHES: Readonly<Record<ArchName, ArchDef>> = {
  x86_64: arch('x86_64', 'SCMP_ARCH_X86_64', AUDIT_ARCH.X86_64, 64),
  x86: arch('x86', 'SCMP_ARCH_X86', AUDIT_ARCH.I386, 32),
  x32: arch('x32', 'SCMP_ARCH_X32', AUDIT_ARCH.X86_64, 32),
  aarch64: arch('aarch64', 'SCMP_ARCH_AARCH64', AUDIT_ARCH.AARCH64, 64),
  arm: arch('arm', 'SCMP_ARCH_ARM', AUDIT_ARCH.ARM, 32),
};

const BY_SCMP_NAME = new Map<string, ArchDef>(Object.values(ARCHES).map((a) => [a.scmpName, a]));

/**
 * Architecture names the runtime-spec allows that berth does not compile
 * for. Listing one is accepted and has no effect: a process of that
 * architecture cannot run on the supported hosts, and if it could it would
 * meet the bad-architecture action.
 */
const FOREIGN_SCMP_ARCHES = new Set([
  'SCMP_ARCH_MIPS',
  'SCMP_ARCH_MIPS64',
  'SCMP_ARCH_MIPS64N32',
  'SCMP_ARCH_MIPSEL',
  'SCMP_ARCH_MIPSEL64',
  'SCMP_ARCH_MIPSEL64N32',
  'SCMP_ARCH_PPC',
  'SCMP_ARCH_PPC64',
  'SCMP_ARCH_PPC64LE',
  'SCMP_ARCH_S390',
  'SCMP_ARCH_S390X',
  'SCMP_ARCH_PARISC',
  'SCMP_ARCH_PARISC64',
  'SCMP_ARCH_RISCV64',
  'SCMP_ARCH_LOONGARCH64',
  'SCMP_ARCH_M68K',
  'SCMP_ARCH_SH',
  'SCMP_ARCH_SHEB',
]);

export type ArchLookup = { kind: 'supported'; arch: ArchDef } | { kind: 'foreign' } | { kind: 'unknown' };

export function lookupScmpArch(name: string): ArchLookup {
  const arch = BY_SCMP_NAME.get(name);
  if (arch !== undefined) return { kind: 'supported', arch };
  return FOREIGN_SCMP_ARCHES.has(name) ? { kind: 'foreign' } : { kind: 'unknown' };
}

export function hostNativeArch(): NativeArch {
  return process.arch === 'arm64' ? 'aarch64' : 'x86_64';
}

/** The i386 multiplexer a socket or SysV IPC syscall name also goes through. */
export interface Multiplexed {
  nr: number;
  subcall: number;
}

const X86_SOCKETCALL = SYSCALL_TABLES.x86.socketcall;
const X86_IPC = SYSCALL_TABLES.x86.ipc;

const MULTIPLEXED = new Map<string, Multiplexed>([
  ...Object.entries(SOCKETCALL_SUBCALLS).map(([name, subcall]): [string, Multiplexed] => [name, { nr: X86_SOCKETCALL, subcall }]),
  ...Object.entries(IPC_SUBCALLS).map(([name, subcall]): [string, Multiplexed] => [name, { nr: X86_IPC, subcall }]),
]);

export function x86Multiplexer(name: string): Multiplexed | undefined {
  return MULTIPLEXED.get(name);
}

const KNOWN_NAMES: ReadonlySet<string> = new Set([
  ...Object.keys(SOCKETCALL_SUBCALLS),
  ...Object.keys(IPC_SUBCALLS),
  ...Object.values(ARCHES).flatMap((a) => [...a.numbers.keys()]),
]);

/** True when some supported architecture knows the syscall name. */
export function isKnownSyscall(name: string): boolean {
  return KNOWN_NAMES.has(name);
}
