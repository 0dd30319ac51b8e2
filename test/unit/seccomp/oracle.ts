/**
 * The profile semantics written as a direct evaluator (no BPF): for one
 * syscall (audit arch, number, arguments) it walks the profile's rules and
 * returns the SECCOMP_RET_* value. It is the reference where libseccomp
 * cannot be one: several conditional rules for one syscall, which
 * libseccomp 2.5 merges into a decision tree that gets some 64-bit range
 * comparisons wrong. The rules are those documented in
 * src/runtime/seccomp/ir.ts.
 */
import type { LinuxSeccomp, SeccompAction, SeccompArg } from '../../../src/oci/runtime-spec.ts';
import { ARCHES, lookupScmpArch, x86Multiplexer, type ArchDef } from '../../../src/runtime/seccomp/arch.ts';

const X32_BIT = 0x40000000;
const MINUS_ONE = 0xffffffff;
const KILL_THREAD = 0;

const BASE: Record<SeccompAction, number> = {
  SCMP_ACT_KILL: 0, SCMP_ACT_KILL_THREAD: 0, SCMP_ACT_KILL_PROCESS: 0x80000000, SCMP_ACT_TRAP: 0x00030000,
  SCMP_ACT_ERRNO: 0x00050000, SCMP_ACT_TRACE: 0x7ff00000, SCMP_ACT_LOG: 0x7ffc0000, SCMP_ACT_ALLOW: 0x7fff0000,
  SCMP_ACT_NOTIFY: 0x7fc00000,
};

function actionOf(name: SeccompAction, errnoRet: number | undefined): number {
  const data = name === 'SCMP_ACT_ERRNO' || name === 'SCMP_ACT_TRACE' ? (errnoRet ?? 1) : 0;
  return (BASE[name] | data) >>> 0;
}

function holds(arg: SeccompArg, value: bigint, bits: 32 | 64): boolean | 'always' {
  const width = bits === 64 ? (1n << 64n) - 1n : 0xffffffffn;
  const a = value & width;
  const v = BigInt(arg.value) & width;
  switch (arg.op) {
    case 'SCMP_CMP_NE': return a !== v;
    case 'SCMP_CMP_LT': return a < v;
    case 'SCMP_CMP_LE': return a <= v;
    case 'SCMP_CMP_EQ': return a === v;
    case 'SCMP_CMP_GE': return a >= v;
    case 'SCMP_CMP_GT': return a > v;
    case 'SCMP_CMP_MASKED_EQ':
      if (v === 0n) return 'always';
      return (a & v) === (BigInt(arg.valueTwo ?? 0) & v);
  }
}

function abiFor(arches: ArchDef[], auditArch: number, nr: number): ArchDef | undefined {
  const matching = arches.filter((a) => a.auditArch === auditArch);
  if (auditArch !== ARCHES.x86_64.auditArch) return matching[0];
  const has64 = matching.includes(ARCHES.x86_64);
  const hasX32 = matching.includes(ARCHES.x32);
  const high = nr >= X32_BIT;
  if (has64 && hasX32) return high ? ARCHES.x32 : ARCHES.x86_64;
  if (has64) return !high || nr === MINUS_ONE ? ARCHES.x86_64 : undefined;
  if (hasX32) return high ? ARCHES.x32 : undefined;
  return undefined;
}

export function evaluate(profile: LinuxSeccomp, nativeArch: 'x86_64' | 'aarch64', auditArch: number, nr: number, args: readonly bigint[]): number {
  const listed = (profile.architectures ?? []).flatMap((n) => {
    const found = lookupScmpArch(n);
    return found.kind === 'supported' ? [found.arch] : [];
  });
  const arch = abiFor([ARCHES[nativeArch], ...listed], auditArch, nr);
  const fallback = actionOf(profile.defaultAction, profile.defaultErrnoRet);
  if (arch === undefined) return KILL_THREAD;

  let unconditional: number | undefined;
  let firstMatch: number | undefined;
  for (const rule of profile.syscalls ?? []) {
    const action = actionOf(rule.action, rule.errnoRet);
    if (action === fallback) continue;
    const args0 = rule.args ?? [];
    const repeated = new Set(args0.map((a) => a.index)).size < args0.length;
    const sets = repeated ? args0.map((a) => [a]) : [args0];
    for (const set of sets) {
      for (const name of rule.names) {
        const candidates: SeccompArg[][] = [];
        if (arch.table[name] === nr) candidates.push(set);
        const mux = arch.name === 'x86' ? x86Multiplexer(name) : undefined;
        if (mux?.nr === nr) candidates.push([...set.filter((a) => a.index !== 0), { index: 0, value: mux.subcall, op: 'SCMP_CMP_EQ' }]);
        for (const conds of candidates) {
          const results = conds.map((c) => holds(c, args[c.index] ?? 0n, arch.argBits));
          if (results.every((r) => r === 'always')) unconditional ??= action;
          else if (results.every((r) => r !== false)) firstMatch ??= action;
        }
      }
    }
  }
  return unconditional ?? firstMatch ?? fallback;
}
