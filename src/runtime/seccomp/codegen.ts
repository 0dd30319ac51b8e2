/**
 * BPF code generation from the IR. Layout:
 *
 *   ld arch; jeq <token>, block_i ... ; ret BADARCH
 *   block_i: ld nr; [x32 split]; binary search over syscall-number ranges
 *
 * The syscall dispatch is a balanced binary search over ranges of numbers
 * that share one outcome (adjacent syscalls allowed alike collapse into one
 * range), so a syscall costs O(log n) comparisons instead of libseccomp's
 * linear chain. A range that is a single syscall with argument rules ends in
 * the rule checks; every other range ends in its `ret`.
 */
import { Label, Program } from './assembler.ts';
import { BPF, SECCOMP_DATA, X32_SYSCALL_BIT } from './constants.ts';
import type { ArchBlock, ArgCheck, FilterIR, RuleIR, SyscallIR } from './ir.ts';

type Leaf = { kind: 'ret'; action: number } | { kind: 'rules'; rules: RuleIR[]; argBits: 32 | 64 };

interface Segment {
  start: number;
  leaf: Leaf;
}

const MAX_NR = 0xffffffff;
const MINUS_ONE = 0xffffffff;

function leafOf(decision: SyscallIR): Leaf {
  return decision.kind === 'action' ? { kind: 'ret', action: decision.action } : decision;
}

/** Ranges covering every u32 syscall number, adjacent equal returns merged. */
export function segments(syscalls: Map<number, SyscallIR>, defaultAction: number): Segment[] {
  const nrs = [...syscalls.keys()].sort((a, b) => a - b);
  const out: Segment[] = [];
  const push = (start: number, leaf: Leaf): void => {
    const last = out.at(-1);
    if (last?.leaf.kind === 'ret' && leaf.kind === 'ret' && last.leaf.action === leaf.action) return;
    out.push({ start, leaf });
  };
  let cursor = 0;
  for (const nr of nrs) {
    const decision = syscalls.get(nr);
    if (decision === undefined) continue;
    if (nr > cursor) push(cursor, { kind: 'ret', action: defaultAction });
    push(nr, leafOf(decision));
    cursor = nr + 1;
  }
  if (cursor <= MAX_NR) push(cursor, { kind: 'ret', action: defaultAction });
  return out;
}

/** Emits code that falls through when the check holds and jumps to `fail` otherwise. */
function emitCheck(p: Program, check: ArgCheck, argBits: 32 | 64, fail: Label): void {
  const pass = new Label('pass');
  const lo = SECCOMP_DATA.argLow(check.index);
  const hi = SECCOMP_DATA.argHigh(check.index);
  const wide = argBits === 64;
  switch (check.op) {
    case 'SCMP_CMP_EQ':
    case 'SCMP_CMP_NE': {
      const [onEqual, onDiffer] = check.op === 'SCMP_CMP_EQ' ? [pass, fail] : [fail, pass];
      if (wide) {
        const next = new Label('lo');
        p.load(hi);
        p.jump(BPF.JMP_JEQ_K, check.hi, next, onDiffer);
        p.place(next);
      }
      p.load(lo);
      p.jump(BPF.JMP_JEQ_K, check.lo, onEqual, onDiffer);
      break;
    }
    case 'SCMP_CMP_GT':
    case 'SCMP_CMP_GE':
    case 'SCMP_CMP_LT':
    case 'SCMP_CMP_LE': {
      const greater = check.op === 'SCMP_CMP_GT' || check.op === 'SCMP_CMP_GE';
      const [above, below] = greater ? [pass, fail] : [fail, pass];
      if (wide) {
        const equalHi = new Label('eqhi');
        const next = new Label('lo');
        p.load(hi);
        p.jump(BPF.JMP_JGT_K, check.hi, above, equalHi);
        p.place(equalHi);
        p.jump(BPF.JMP_JEQ_K, check.hi, next, below);
        p.place(next);
      }
      p.load(lo);
      // GT and LE split at "lo > k"; GE and LT at "lo >= k".
      const strict = check.op === 'SCMP_CMP_GT' || check.op === 'SCMP_CMP_LE';
      p.jump(strict ? BPF.JMP_JGT_K : BPF.JMP_JGE_K, check.lo, above, below);
      break;
    }
    case 'SCMP_CMP_MASKED_EQ': {
      if (wide && check.maskHi !== 0) {
        const next = new Label('lo');
        p.load(hi);
        p.and(check.maskHi);
        p.jump(BPF.JMP_JEQ_K, check.hi, next, fail);
        p.place(next);
      }
      if (check.maskLo !== 0) {
        p.load(lo);
        p.and(check.maskLo);
        p.jump(BPF.JMP_JEQ_K, check.lo, pass, fail);
      }
      break;
    }
  }
  // A check that emitted no jump (a high-half-only mask) just falls through.
  if (pass.index === -1) p.place(pass);
}

function emitRules(p: Program, rules: RuleIR[], argBits: 32 | 64, defaultAction: number): void {
  for (const rule of rules) {
    const next = new Label('next-rule');
    for (const check of rule.checks) emitCheck(p, check, argBits, next);
    p.ret(rule.action);
    p.place(next);
  }
  p.ret(defaultAction);
}

function emitSearch(p: Program, segs: Segment[], lo: number, hi: number, defaultAction: number): void {
  if (hi - lo === 1) {
    const seg = segs[lo];
    if (seg === undefined) return;
    if (seg.leaf.kind === 'ret') p.ret(seg.leaf.action);
    else emitRules(p, seg.leaf.rules, seg.leaf.argBits, defaultAction);
    return;
  }
  const mid = (lo + hi) >> 1;
  const left = new Label('left');
  const right = new Label('right');
  p.jump(BPF.JMP_JGE_K, segs[mid]?.start ?? 0, right, left);
  p.place(left);
  emitSearch(p, segs, lo, mid, defaultAction);
  p.place(right);
  emitSearch(p, segs, mid, hi, defaultAction);
}

function emitBlock(p: Program, block: ArchBlock, ir: FilterIR): void {
  p.load(SECCOMP_DATA.nr);
  if (block.x32 === 'x86_64-only' || block.x32 === 'x32-only') {
    // With one of the two ABIs sharing AUDIT_ARCH_X86_64, the other is a bad
    // architecture. Syscall -1 (a tracer skipping a syscall) is not x32 and
    // goes on to the rules, as libseccomp lets it.
    const bad = new Label('other-abi');
    const body = new Label('abi-ok');
    if (block.x32 === 'x86_64-only') {
      const high = new Label('x32-or-minus-one');
      p.jump(BPF.JMP_JGE_K, X32_SYSCALL_BIT, high, body);
      p.place(high);
      p.jump(BPF.JMP_JEQ_K, MINUS_ONE, body, bad);
    } else {
      p.jump(BPF.JMP_JGE_K, X32_SYSCALL_BIT, body, bad);
    }
    p.place(bad);
    p.ret(ir.badArchAction);
    p.place(body);
  }
  const segs = segments(block.syscalls, ir.defaultAction);
  emitSearch(p, segs, 0, segs.length, ir.defaultAction);
}

export function generate(ir: FilterIR): Program {
  const p = new Program();
  p.load(SECCOMP_DATA.arch);
  const starts = ir.blocks.map(() => new Label('arch'));
  ir.blocks.forEach((block, i) => {
    const next = new Label('next-arch');
    const start = starts[i];
    if (start === undefined) return;
    p.jump(BPF.JMP_JEQ_K, block.auditArch, start, next);
    p.place(next);
  });
  p.ret(ir.badArchAction);
  ir.blocks.forEach((block, i) => {
    const start = starts[i];
    if (start === undefined) return;
    p.place(start);
    emitBlock(p, block, ir);
  });
  return p;
}
