/**
 * Plans as data: a list of steps, each an operation of opcodes.ts with its
 * arguments and a description for error messages, and the one encoder of
 * the binary form the executor reads.
 */
import { ArgKind, type ArgKindName, OPS, PLAN_MAGIC, PLAN_VERSION, type OpName } from './opcodes.ts';

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

class Writer {
  private chunks: Buffer[] = [];
  size = 0;
  private push(b: Buffer): void {
    this.chunks.push(b);
    this.size += b.length;
  }
  u8x4(kind: number): void {
    const b = Buffer.alloc(4);
    b[0] = kind;
    this.push(b);
  }
  u16x4(a: number, b: number, c: number): void {
    const buf = Buffer.alloc(8);
    buf.writeUInt16LE(a, 0);
    buf.writeUInt16LE(b, 2);
    buf.writeUInt16LE(c, 4);
    this.push(buf);
  }
  u32(v: number): void {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v >>> 0, 0);
    this.push(b);
  }
  i64(v: number | bigint): void {
    const b = Buffer.alloc(8);
    if (typeof v === 'number' && Number.isSafeInteger(v)) {
      // Two halves: cheaper than a BigInt on the start-up path, and exact for safe integers.
      b.writeUInt32LE(v >>> 0, 0);
      b.writeInt32LE(Math.floor(v / 0x100000000), 4);
    } else {
      b.writeBigInt64LE(toInt64(v), 0);
    }
    this.push(b);
  }
  str(v: string | Uint8Array): void {
    const bytes = typeof v === 'string' ? Buffer.from(v, 'utf8') : Buffer.from(v);
    this.u32(bytes.length);
    this.push(bytes);
    this.push(Buffer.alloc(1));
  }
  result(): Buffer {
    return Buffer.concat(this.chunks, this.size);
  }
}

export function encodePlan(plan: Plan): Buffer {
  const w = new Writer();
  w.u32(PLAN_MAGIC);
  w.u32(PLAN_VERSION);
  w.u32(plan.steps.length);
  for (const step of plan.steps) {
    const def = OPS[step.op];
    const kinds: [string, ArgKindName][] = Object.entries(def.args);
    w.u16x4(def.code, step.flags, kinds.length);
    const args = step.args as Record<string, unknown>;
    for (const [name, kind] of kinds) {
      const value = args[name];
      w.u8x4(ArgKind[kind]);
      switch (kind) {
        case 'int':
          if (typeof value !== 'number' && typeof value !== 'bigint') throw new TypeError(`plan step ${step.op}: ${name} must be an integer`);
          w.i64(value);
          break;
        case 'str':
          if (typeof value !== 'string' && !(value instanceof Uint8Array)) throw new TypeError(`plan step ${step.op}: ${name} must be a string`);
          if (typeof value === 'string' && value.includes('\0')) throw new TypeError(`plan step ${step.op}: ${name} contains a NUL byte`);
          w.str(value);
          break;
        case 'strv': {
          const list = value as readonly string[];
          w.u32(list.length);
          for (const s of list) {
            if (s.includes('\0')) throw new TypeError(`plan step ${step.op}: ${name} contains a NUL byte`);
            w.str(s);
          }
          break;
        }
        case 'intv': {
          const list = value as readonly number[];
          w.u32(list.length);
          for (const n of list) w.i64(n);
          break;
        }
      }
    }
  }
  return w.result();
}

/** Human-readable listing of a plan, for `--debug` and tests. */
export function describePlan(plan: Plan): string[] {
  return plan.steps.map((s, i) => `${i}: ${s.op} ${s.what}`);
}
