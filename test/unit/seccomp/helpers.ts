/** Shared helpers of the seccomp unit tests: compile a profile and ask the interpreter. */
import type { LinuxSeccomp } from '../../../src/oci/runtime-spec.ts';
import { ARCHES } from '../../../src/runtime/seccomp/arch.ts';
import { compileSeccomp } from '../../../src/runtime/seccomp/index.ts';
import { SYSCALL_TABLES } from '../../../src/runtime/seccomp/syscalls.generated.ts';
import { decode, describeAction, run, type Decoded } from './bpf-interpreter.ts';

export type ArchName = keyof typeof SYSCALL_TABLES;

export function nr(arch: ArchName, name: string): number {
  const table: Readonly<Record<string, number>> = SYSCALL_TABLES[arch];
  const value = table[name];
  if (value === undefined) throw new Error(`no syscall ${name} on ${arch}`);
  return value;
}

export class Filter {
  readonly insns: Decoded[];
  constructor(profile: LinuxSeccomp, nativeArch: 'x86_64' | 'aarch64' = 'x86_64') {
    this.insns = decode(compileSeccomp(profile, { nativeArch }).program);
  }

  /** The decision for a syscall by name on an architecture, e.g. "ERRNO(1)". */
  call(arch: ArchName, name: string, args: readonly bigint[] = []): string {
    return this.raw(ARCHES[arch].auditArch, nr(arch, name), args);
  }

  raw(auditArch: number, number: number, args: readonly bigint[] = []): string {
    return describeAction(run(this.insns, { arch: auditArch, nr: number, args }));
  }
}
