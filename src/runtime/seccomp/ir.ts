/**
 * The intermediate representation between a validated profile and BPF: for
 * each audit architecture, what happens to each syscall number. This is
 * where the rule semantics live; code generation only lays them out.
 *
 * Semantics (those of runc on libseccomp, so that a profile means the same
 * under berth as under runc or crun):
 * - The native architecture is always accepted; listed ones are added.
 *   Syscall numbers of any other audit architecture get the bad-arch action
 *   (SECCOMP_RET_KILL_THREAD, libseccomp's default). x86_64 and x32 share an
 *   audit token: with only one of them in the filter, numbers of the other
 *   ABI (told apart by __X32_SYSCALL_BIT) are a bad architecture too.
 * - A rule whose action equals the default action is redundant and skipped.
 * - A name unknown on an architecture is skipped for it.
 * - Conditions of one rule are ANDed; several rules for one syscall are
 *   ORed. When one rule repeats an argument index, its conditions become
 *   separate rules (ORed), as runc and crun do since libseccomp refuses a
 *   repeated index.
 * - An unconditional rule for a syscall overrides every conditional rule
 *   for it, and the first unconditional rule wins, as in libseccomp's rule
 *   database. Among conditional rules with different actions that all
 *   match, the first in profile order wins (libseccomp's choice there
 *   depends on its internal tree order).
 * - On 32-bit ABIs (i386, arm, x32) only the low 32 bits of an argument
 *   exist: values and masks are truncated to them. MASKED_EQ compares
 *   `(arg & mask) == (valueTwo & mask)`; a zero mask is always true.
 * - On i386, socket and SysV IPC syscalls are also reachable through
 *   socketcall(2)/ipc(2): a rule for `socket` also adds a socketcall rule
 *   whose first argument is SYS_SOCKET (replacing conditions on argument 0,
 *   which socketcall uses for the sub-call), exactly as libseccomp does.
 */
import type { SeccompOperator } from '../../oci/runtime-spec.ts';
import { ARCHES, isKnownSyscall, x86Multiplexer, type ArchDef, type NativeArch } from './arch.ts';
import { SECCOMP_RET } from './constants.ts';
import type { Condition, NormalizedProfile } from './validate.ts';

/** One argument comparison, split into 32-bit halves. */
export interface ArgCheck {
  index: number;
  op: SeccompOperator;
  hi: number;
  lo: number;
  /** MASKED_EQ only. */
  maskHi: number;
  maskLo: number;
}

export interface RuleIR {
  checks: ArgCheck[];
  action: number;
}

export type SyscallIR = { kind: 'action'; action: number } | { kind: 'rules'; rules: RuleIR[]; argBits: 32 | 64 };

export type X32Split = 'none' | 'x86_64-only' | 'x32-only' | 'both';

export interface ArchBlock {
  auditArch: number;
  x32: X32Split;
  /** Syscall number → decision; numbers not present get the default action. */
  syscalls: Map<number, SyscallIR>;
}

export interface FilterIR {
  defaultAction: number;
  badArchAction: number;
  blocks: ArchBlock[];
  /** Names no architecture knows (newer or foreign syscalls): skipped, as runc does, and reported. */
  unknown: string[];
}

const MASK32 = 0xffffffffn;

function toCheck(cond: Condition, argBits: 32 | 64): ArgCheck | undefined {
  const width = argBits === 64 ? (1n << 64n) - 1n : MASK32;
  const isMasked = cond.op === 'SCMP_CMP_MASKED_EQ';
  const mask = isMasked ? cond.value & width : width;
  const datum = (isMasked ? cond.valueTwo : cond.value) & mask;
  if (isMasked && mask === 0n) return undefined; // (arg & 0) == 0: always true
  return {
    index: cond.index,
    op: cond.op,
    hi: Number(datum >> 32n),
    lo: Number(datum & MASK32),
    maskHi: Number(mask >> 32n),
    maskLo: Number(mask & MASK32),
  };
}

/** runc's rule: conditions repeating an argument index are ORed, not ANDed. */
function conditionSets(conditions: Condition[]): Condition[][] {
  const indices = new Set(conditions.map((c) => c.index));
  const repeats = indices.size < conditions.length;
  return repeats ? conditions.map((c) => [c]) : [conditions];
}

interface Pending {
  unconditional?: number;
  rules: RuleIR[];
  argBits: 32 | 64;
}

class ArchCollector {
  readonly arch: ArchDef;
  readonly pending = new Map<number, Pending>();
  constructor(arch: ArchDef) {
    this.arch = arch;
  }

  add(nr: number, conditions: Condition[], action: number): void {
    let entry = this.pending.get(nr);
    if (entry === undefined) {
      entry = { rules: [], argBits: this.arch.argBits };
      this.pending.set(nr, entry);
    }
    const checks = conditions.flatMap((c) => toCheck(c, this.arch.argBits) ?? []);
    if (checks.length === 0) entry.unconditional ??= action;
    else entry.rules.push({ checks, action });
  }

  addName(name: string, conditions: Condition[], action: number): void {
    if (this.arch.name === 'x86') {
      const mux = x86Multiplexer(name);
      if (mux !== undefined) {
        const subcall: Condition = { index: 0, op: 'SCMP_CMP_EQ', value: BigInt(mux.subcall), valueTwo: 0n };
        this.add(mux.nr, [...conditions.filter((c) => c.index !== 0), subcall], action);
      }
    }
    const nr = this.arch.numbers.get(name);
    if (nr !== undefined) this.add(nr, conditions, action);
  }

  decisions(): Map<number, SyscallIR> {
    const out = new Map<number, SyscallIR>();
    for (const [nr, entry] of this.pending) {
      out.set(
        nr,
        entry.unconditional !== undefined
          ? { kind: 'action', action: entry.unconditional }
          : { kind: 'rules', rules: entry.rules, argBits: entry.argBits },
      );
    }
    return out;
  }
}

function x32Split(arches: readonly ArchDef[]): X32Split {
  const has64 = arches.includes(ARCHES.x86_64);
  const hasX32 = arches.includes(ARCHES.x32);
  if (has64 && hasX32) return 'both';
  if (has64) return 'x86_64-only';
  return hasX32 ? 'x32-only' : 'none';
}

export function buildIR(profile: NormalizedProfile, nativeArch: NativeArch): FilterIR {
  const native = ARCHES[nativeArch];
  const arches = [native, ...profile.arches.filter((a) => a !== native)];
  const collectors = arches.map((a) => new ArchCollector(a));

  const unknown = new Set<string>();
  for (const rule of profile.rules) {
    // Profiles list syscalls of newer kernels and of other architectures; like runc, skip them.
    for (const name of rule.names) if (!isKnownSyscall(name)) unknown.add(name);
    if (rule.action === profile.defaultAction) continue;
    for (const conditions of conditionSets(rule.conditions)) {
      for (const name of rule.names) {
        for (const c of collectors) c.addName(name, conditions, rule.action);
      }
    }
  }

  // One block per audit token; x86_64 and x32 merge into one block whose
  // syscall numbers are disjoint thanks to the x32 bit.
  const blocks: ArchBlock[] = [];
  for (const c of collectors) {
    let block = blocks.find((b) => b.auditArch === c.arch.auditArch);
    if (block === undefined) {
      block = { auditArch: c.arch.auditArch, x32: 'none', syscalls: new Map() };
      blocks.push(block);
    }
    for (const [nr, decision] of c.decisions()) block.syscalls.set(nr, decision);
  }
  const split = x32Split(arches);
  for (const block of blocks) {
    if (block.auditArch === ARCHES.x86_64.auditArch) block.x32 = split;
  }
  return { defaultAction: profile.defaultAction, badArchAction: SECCOMP_RET.KILL_THREAD, blocks, unknown: [...unknown] };
}
