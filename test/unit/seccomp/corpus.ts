/**
 * The profiles the differential test compiles with both berth and
 * libseccomp: the JSON fixtures in test/fixtures/seccomp, berth's default
 * profile with several capability sets on both native architectures, and
 * profiles generated from a fixed seed.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LinuxSeccomp, SeccompAction, SeccompArg, SeccompOperator, SeccompSyscall } from '../../../src/oci/runtime-spec.ts';
import { defaultSeccompProfile } from '../../../src/runtime/seccomp/index.ts';
import { x86Multiplexer } from '../../../src/runtime/seccomp/arch.ts';
import { SYSCALL_TABLES } from '../../../src/runtime/seccomp/syscalls.generated.ts';

export interface CorpusCase {
  name: string;
  profile: LinuxSeccomp;
  nativeArch: 'x86_64' | 'aarch64';
}

const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures', 'seccomp');

export function fixtureCases(): CorpusCase[] {
  return readdirSync(FIXTURES)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => {
      const { nativeArch, profile } = JSON.parse(readFileSync(join(FIXTURES, file), 'utf8')) as {
        nativeArch: 'x86_64' | 'aarch64';
        profile: LinuxSeccomp;
      };
      return { name: file, profile, nativeArch };
    });
}

const CAPABILITY_SETS: readonly (readonly string[])[] = [
  [],
  ['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FOWNER', 'CAP_KILL', 'CAP_NET_BIND_SERVICE', 'CAP_SETGID', 'CAP_SETUID'],
  ['CAP_SYS_ADMIN'],
  ['CAP_SYS_PTRACE', 'CAP_SYS_TIME', 'CAP_SYS_NICE', 'CAP_BPF', 'CAP_PERFMON'],
  [
    'CAP_SYS_ADMIN', 'CAP_SYS_BOOT', 'CAP_SYS_CHROOT', 'CAP_SYS_MODULE', 'CAP_SYS_PACCT', 'CAP_SYS_PTRACE',
    'CAP_SYS_RAWIO', 'CAP_SYS_TIME', 'CAP_SYS_TTY_CONFIG', 'CAP_SYS_NICE', 'CAP_SYSLOG', 'CAP_DAC_READ_SEARCH',
  ],
];

export function defaultProfileCases(): CorpusCase[] {
  const cases: CorpusCase[] = [];
  for (const nativeArch of ['x86_64', 'aarch64'] as const) {
    for (const caps of CAPABILITY_SETS) {
      cases.push({
        name: `default profile, ${nativeArch}, caps [${caps.join(',')}]`,
        profile: defaultSeccompProfile({ capabilities: caps, nativeArch }),
        nativeArch,
      });
    }
  }
  return cases;
}

/** xorshift64*: a small seeded generator so the corpus is the same on every run. */
export class Rng {
  private state: bigint;
  constructor(seed: bigint) {
    this.state = seed || 1n;
  }
  next64(): bigint {
    let x = this.state;
    x ^= x >> 12n;
    x ^= (x << 25n) & 0xffffffffffffffffn;
    x ^= x >> 27n;
    this.state = x;
    return (x * 0x2545f4914f6cdd1dn) & 0xffffffffffffffffn;
  }
  int(n: number): number {
    return Number(this.next64() % BigInt(n));
  }
  pick<T>(items: readonly T[]): T {
    const item = items[this.int(items.length)];
    if (item === undefined) throw new Error('pick from an empty list');
    return item;
  }
}

const OPERATORS: readonly SeccompOperator[] = [
  'SCMP_CMP_NE', 'SCMP_CMP_LT', 'SCMP_CMP_LE', 'SCMP_CMP_EQ', 'SCMP_CMP_GE', 'SCMP_CMP_GT', 'SCMP_CMP_MASKED_EQ',
];
const RULE_ACTIONS: readonly SeccompAction[] = [
  'SCMP_ACT_ALLOW', 'SCMP_ACT_ERRNO', 'SCMP_ACT_KILL_PROCESS', 'SCMP_ACT_KILL_THREAD', 'SCMP_ACT_TRAP',
  'SCMP_ACT_TRACE', 'SCMP_ACT_LOG', 'SCMP_ACT_NOTIFY',
];
const DEFAULT_ACTIONS: readonly SeccompAction[] = ['SCMP_ACT_ERRNO', 'SCMP_ACT_ALLOW', 'SCMP_ACT_KILL', 'SCMP_ACT_TRAP', 'SCMP_ACT_LOG'];

/** JSON-safe argument values (numbers up to 2^53) with interesting bit patterns. */
const VALUES = [
  0, 1, 2, 40, 0x7f, 0xff, 0x8000, 0xffff, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff, 2 ** 32, 2 ** 32 + 1,
  0x1_0000_0005, 0xf_ffff_ffff, 0x7e020000, 0x10_0000_0000, 2 ** 52, 2 ** 53 - 1,
];

function randomValue(rng: Rng): number {
  if (rng.int(3) === 0) return Number(rng.next64() >> BigInt(11 + rng.int(40)));
  return rng.pick(VALUES);
}

function randomArgs(rng: Rng, allowRepeat: boolean): SeccompArg[] {
  const count = 1 + rng.int(3);
  const args: SeccompArg[] = [];
  const repeatIndex = allowRepeat && rng.int(8) === 0; // exercise runc's split of a repeated index
  for (let i = 0; i < count; i++) {
    const index = repeatIndex && i > 0 ? (args[0]?.index ?? 0) : rng.int(6);
    if (!repeatIndex && args.some((a) => a.index === index)) continue;
    const op = rng.pick(OPERATORS);
    const arg: SeccompArg = { index, value: randomValue(rng), op };
    if (op === 'SCMP_CMP_MASKED_EQ') arg.valueTwo = rng.int(2) === 0 ? randomValue(rng) : arg.value & 0xff;
    args.push(arg);
  }
  return args;
}

function randomAction(rng: Rng): { action: SeccompAction; errnoRet?: number } {
  const action = rng.pick(RULE_ACTIONS);
  if (action === 'SCMP_ACT_ERRNO' || action === 'SCMP_ACT_TRACE') return { action, errnoRet: 1 + rng.int(200) };
  return { action };
}

/**
 * A random profile: rules for one syscall share an action, except an
 * unconditional override. With `single`, each syscall has at most one
 * conditional rule: libseccomp 2.5 merges several conditional rules of one
 * syscall into a decision tree that gets some 64-bit range comparisons
 * wrong (see multiRuleCases), so only single-rule profiles can be held to
 * identical decisions.
 */
export function randomProfile(rng: Rng, nativeArch: 'x86_64' | 'aarch64', single: boolean): LinuxSeccomp {
  const companions = nativeArch === 'x86_64' ? ['SCMP_ARCH_X86', 'SCMP_ARCH_X32'] : ['SCMP_ARCH_ARM'];
  const architectures = [nativeArch === 'x86_64' ? 'SCMP_ARCH_X86_64' : 'SCMP_ARCH_AARCH64', ...companions.filter(() => rng.int(3) !== 0)];
  // Each name goes to one group only: libseccomp refuses (EEXIST) or orders
  // by its tree conditional rules of different actions that overlap. The
  // multiplexers are left out for the same reason (every socket rule on x86
  // becomes a socketcall rule).
  const pool = [...new Set([...Object.keys(SYSCALL_TABLES[nativeArch]), ...Object.keys(SYSCALL_TABLES.x86)])].filter(
    (n) => n !== 'socketcall' && n !== 'ipc' && x86Multiplexer(n) === undefined,
  );
  const take = (): string => {
    const name = pool.splice(rng.int(pool.length), 1)[0];
    if (name === undefined) throw new Error('syscall pool exhausted');
    return name;
  };
  const defaultAction = rng.pick(DEFAULT_ACTIONS);
  const syscalls: SeccompSyscall[] = [];
  for (let i = 0; i < 60; i++) {
    const group = Array.from({ length: 1 + rng.int(3) }, take);
    const { action, errnoRet } = randomAction(rng);
    const base = (args?: SeccompArg[]): SeccompSyscall => {
      const rule: SeccompSyscall = { names: group, action };
      if (errnoRet !== undefined) rule.errnoRet = errnoRet;
      if (args !== undefined) rule.args = args;
      return rule;
    };
    if (rng.int(3) === 0) {
      syscalls.push(base());
      continue;
    }
    const rules = single ? 1 : 1 + rng.int(3);
    for (let r = 0; r < rules; r++) syscalls.push(base(randomArgs(rng, !single)));
    if (rng.int(6) === 0) {
      const override = randomAction(rng);
      const rule: SeccompSyscall = { names: group, action: override.action };
      if (override.errnoRet !== undefined) rule.errnoRet = override.errnoRet;
      syscalls.push(rule);
    }
  }
  const profile: LinuxSeccomp = { defaultAction, architectures, syscalls, listenerPath: '/run/notify.sock' };
  if (defaultAction === 'SCMP_ACT_ERRNO') profile.defaultErrnoRet = 1 + rng.int(100);
  return profile;
}

export function randomCases(count: number, single: boolean, seed: bigint): CorpusCase[] {
  const rng = new Rng(seed);
  return Array.from({ length: count }, (_, i) => {
    const nativeArch = i % 3 === 2 ? 'aarch64' : 'x86_64';
    const kind = single ? 'one rule per syscall' : 'several rules per syscall';
    return { name: `random profile #${i} (${nativeArch}, ${kind})`, profile: randomProfile(rng, nativeArch, single), nativeArch };
  });
}
