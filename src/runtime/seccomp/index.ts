/**
 * Compiles an OCI `linux.seccomp` profile to a classic-BPF seccomp filter.
 *
 * Why hand-written rather than libseccomp: libseccomp is a C library, so
 * using it from Node.js means a native addon (a native build at install
 * time) or an FFI load on the container start path. The program must be
 * computed in the parent anyway (the executor only loads it, as crun does),
 * and a TypeScript compiler keeps the policy unit-testable without root.
 * Its decisions are checked against libseccomp's own output by the
 * differential test (test/unit/seccomp/differential.test.ts).
 *
 * Pipeline: validate (validate.ts) → per-architecture decisions (ir.ts) →
 * code with symbolic labels (codegen.ts) → layout with long jumps and
 * encoding (assembler.ts).
 */
import type { LinuxSeccomp } from '../../oci/runtime-spec.ts';
import { invalidArgument } from '../../errors.ts';
import { hostNativeArch, type NativeArch } from './arch.ts';
import { encode, layout } from './assembler.ts';
import { generate } from './codegen.ts';
import { BPF_MAXINSNS, SECCOMP_FILTER_FLAG, SECCOMP_RET } from './constants.ts';
import { buildIR } from './ir.ts';
import { FIELD, validateProfile } from './validate.ts';
import { endianness } from 'node:os';

export { defaultSeccompProfile } from './default-profile.ts';
export type { NativeArch } from './arch.ts';

export interface CompiledSeccomp {
  /** struct sock_filter[] in host byte order, 8 bytes each. */
  program: Uint8Array;
  /** SECCOMP_FILTER_FLAG_* bits to pass to seccomp(2). */
  flags: number;
  /** True when a NOTIFY action exists (needs NEW_LISTENER; the fd goes to listenerPath). */
  notify: boolean;
  listenerPath?: string;
  listenerMetadata?: string;
  /** Syscall names the profile lists that no supported architecture knows; they were skipped. */
  unknownSyscalls: string[];
}

export interface CompileOptions {
  /** The architecture the container runs on; the host's by default. */
  nativeArch?: NativeArch;
}

export function compileSeccomp(profile: LinuxSeccomp, options: CompileOptions = {}): CompiledSeccomp {
  // The type describes valid input; config.json is checked field by field anyway.
  const normalized = validateProfile(profile);
  const ir = buildIR(normalized, options.nativeArch ?? hostNativeArch());
  const insns = layout(generate(ir));
  if (insns.length > BPF_MAXINSNS) {
    throw invalidArgument(
      'seccomp_program_too_long',
      `${FIELD}: the compiled filter has ${insns.length} instructions, more than the kernel's limit of ${BPF_MAXINSNS}`,
      { details: { field: FIELD, instructions: insns.length } },
    );
  }
  const notify = normalized.rules.some((r) => r.action === SECCOMP_RET.USER_NOTIF);
  let flags = normalized.flags;
  if (notify) {
    flags |= SECCOMP_FILTER_FLAG.NEW_LISTENER;
    // The kernel refuses TSYNC with NEW_LISTENER unless TSYNC_ESRCH is set.
    if (flags & SECCOMP_FILTER_FLAG.TSYNC) flags |= SECCOMP_FILTER_FLAG.TSYNC_ESRCH;
  }
  const compiled: CompiledSeccomp = { program: encode(insns, endianness() === 'LE'), flags, notify, unknownSyscalls: ir.unknown };
  if (normalized.listenerPath !== undefined) compiled.listenerPath = normalized.listenerPath;
  if (normalized.listenerMetadata !== undefined) compiled.listenerMetadata = normalized.listenerMetadata;
  return compiled;
}
