/**
 * Plans as data: a list of steps, each an operation of opcodes.ts with its
 * arguments and a description for error messages, and the one encoder of
 * the binary form the executor reads.
 */
import { invalidArgument } from '../../errors.ts';
import { ArgKind, type ArgKindName, OPS, PLAN_MAGIC, PLAN_MAX_BYTES, PLAN_VERSION, type OpName } from './opcodes.ts';

type ArgValueOf<K extends ArgKindName> = K extends 'int'
  ? number | bigint
  : K extends 'str'
    ? string | Uint8Array
    : K extends 'strv'
      ? readonly string[]
      : readonly number[];

export type ArgsOf<N extends OpName> = {
  -readonly [K in keyof (typeof OPS)[N]['args']]: (typeof OPS)[N]['args'][K] extends ArgKindName
    ? ArgValueOf<(typeof OPS)[N]['args'][K]>
    : never;
};

export interface Step<N extends OpName = OpName> {
  op: N;
  args: ArgsOf<N>;
  flags: number;
  /** What the step does, in words, for error messages: `mount "proc" on "/proc"`. */
  what: string;
}

export class Plan {
  readonly steps: Step[] = [];

  add<N extends OpName>(op: N, args: ArgsOf<N>, what: string, flags = 0): this {
    const step: Step<N> = { op, args, flags, what };
    this.steps.push(step);
    return this;
  }

  /** Index of the first step with this op, or -1. */
  indexOf(op: OpName): number {
    return this.steps.findIndex((s) => s.op === op);
  }
}

const INT64_MAX = (1n << 63n) - 1n;
const UINT64_MAX = (1n << 64n) - 1n;

/** Values at or above 2^63 (RLIM_INFINITY in JSON) wrap to the same 64-bit pattern. */
function toInt64(value: number | bigint): bigint {
  let v = typeof value === 'bigint' ? value : BigInt(Math.trunc(value));
  if (typeof value === 'number' && value >= 2 ** 63) v = UINT64_MAX;
  if (v > INT64_MAX) v = v - (1n << 64n);
  return v;
}

/** Each operation's arguments in wire order, looked up once. */
const argLists = new Map<OpName, readonly (readonly [string, ArgKindName])[]>();

function argsOf(op: OpName): readonly (readonly [string, ArgKindName])[] {
  let list = argLists.get(op);
  if (list === undefined) {
    list = Object.entries<ArgKindName>(OPS[op].args);
    argLists.set(op, list);
  }
  return list;
}

function checkStr(step: Step, name: string, value: unknown): string | Uint8Array {
  if (typeof value === 'string') {
    // Reachable from a spec (an env entry, a path in config.json): the executor's C would cut the string there.
    if (value.includes('\0')) throw invalidArgument('plan_nul_byte', `plan step ${step.op}: ${name} contains a NUL byte (${step.what})`);
    return value;
  }
  if (value instanceof Uint8Array) return value;
  // assertion: the plan compilers' types give every argument its kind; a spec's wrong types are refused by validation.
  throw new TypeError(`plan step ${step.op}: ${name} must be a string`);
}

function strSize(v: string | Uint8Array): number {
  return 4 + (typeof v === 'string' ? Buffer.byteLength(v, 'utf8') : v.length) + 1;
}

/**
 * The encoder sizes the plan first, then writes into one buffer through a
 * DataView: a plan of a hundred steps is hundreds of fields, and a buffer
 * per field, or Buffer's checked write methods, cost milliseconds of a
 * command's start.
 */
class Writer {
  readonly buf: Buffer;
  readonly view: DataView;
  off = 0;

  constructor(size: number) {
    this.buf = Buffer.alloc(size);
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, size);
  }

  u16(v: number): void {
    this.view.setUint16(this.off, v, true);
    this.off += 2;
  }

  u32(v: number): void {
    this.view.setUint32(this.off, v, true);
    this.off += 4;
  }

  i64(v: number | bigint): void {
    if (typeof v === 'number' && Number.isSafeInteger(v)) {
      // Two halves: cheaper than a BigInt, and exact for safe integers.
      this.view.setUint32(this.off, v >>> 0, true);
      this.view.setInt32(this.off + 4, Math.floor(v / 0x100000000), true);
    } else {
      this.view.setBigInt64(this.off, toInt64(v), true);
    }
    this.off += 8;
  }

  str(v: string | Uint8Array): void {
    const start = this.off + 4;
    const len = typeof v === 'string' ? this.buf.write(v, start, 'utf8') : (this.buf.set(v, start), v.length);
    this.view.setUint32(this.off, len, true);
    this.buf[start + len] = 0;
    this.off = start + len + 1;
  }
}

function stepSize(step: Step): number {
  const args = step.args as Record<string, unknown>;
  let n = 8;
  for (const [name, kind] of argsOf(step.op)) {
    const value = args[name];
    switch (kind) {
      case 'int':
        // assertion: as for strings, the compilers' types make every int argument a number.
        if (typeof value !== 'number' && typeof value !== 'bigint') throw new TypeError(`plan step ${step.op}: ${name} must be an integer`);
        n += 4 + 8;
        break;
      case 'str':
        n += 4 + strSize(checkStr(step, name, value));
        break;
      case 'strv':
        n += 4 + 4;
        for (const x of value as readonly string[]) n += strSize(checkStr(step, name, x));
        break;
      case 'intv':
        n += 4 + 4 + 8 * (value as readonly number[]).length;
        break;
    }
  }
  return n;
}

const mib = (n: number): string => `${(n / (1024 * 1024)).toFixed(1)} MiB`;

/** The executor reads no plan over PLAN_MAX_BYTES: refused here, before anything starts, naming the step that weighs most. */
function checkPlanSize(plan: Plan, sizes: readonly number[], size: number): void {
  if (size <= PLAN_MAX_BYTES) return;
  let biggest = 0;
  sizes.forEach((n, i) => {
    if (n > (sizes[biggest] ?? 0)) biggest = i;
  });
  const step = plan.steps[biggest];
  throw invalidArgument(
    'plan_too_large',
    `the container's set-up takes ${mib(size)}, over the executor's limit of ${mib(PLAN_MAX_BYTES)}; most of it is step ${biggest} (${step?.op}: ${step?.what}) with ${mib(sizes[biggest] ?? 0)}`,
  );
}

export function encodePlan(plan: Plan): Buffer {
  const sizes = plan.steps.map(stepSize);
  const size = sizes.reduce((a, b) => a + b, 12);
  checkPlanSize(plan, sizes, size);
  const w = new Writer(size);
  w.u32(PLAN_MAGIC);
  w.u32(PLAN_VERSION);
  w.u32(plan.steps.length);
  for (const step of plan.steps) {
    const list = argsOf(step.op);
    const args = step.args as Record<string, unknown>;
    w.u16(OPS[step.op].code);
    w.u16(step.flags);
    w.u16(list.length);
    w.u16(0);
    for (const [name, kind] of list) {
      const value = args[name];
      w.buf[w.off] = ArgKind[kind];
      w.off += 4;
      switch (kind) {
        case 'int':
          w.i64(value as number | bigint);
          break;
        case 'str':
          w.str(value as string | Uint8Array);
          break;
        case 'strv':
          w.u32((value as readonly string[]).length);
          for (const x of value as readonly string[]) w.str(x);
          break;
        case 'intv':
          w.u32((value as readonly number[]).length);
          for (const x of value as readonly number[]) w.i64(x);
          break;
      }
    }
  }
  return w.buf;
}

/** Human-readable listing of a plan, for `--debug` and tests. */
export function describePlan(plan: Plan): string[] {
  return plan.steps.map((s, i) => `${i}: ${s.op} ${s.what}`);
}
