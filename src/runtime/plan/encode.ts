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

/**
 * The encoder sizes the plan first, then writes into one buffer: a plan of
 * a hundred steps is hundreds of fields, and a buffer per field cost
 * milliseconds on the start-up path.
 */
function strBytes(v: string | Uint8Array): Uint8Array {
  return typeof v === 'string' ? Buffer.from(v, 'utf8') : v;
}

type Field = { kind: ArgKindName; value: unknown };

function fieldsOf(step: Step): Field[] {
  const def = OPS[step.op];
  const args = step.args as Record<string, unknown>;
  return Object.entries(def.args).map(([name, kind]: [string, ArgKindName]) => {
    const value = args[name];
    switch (kind) {
      case 'int':
        if (typeof value !== 'number' && typeof value !== 'bigint') throw new TypeError(`plan step ${step.op}: ${name} must be an integer`);
        return { kind, value };
      case 'str':
        if (typeof value !== 'string' && !(value instanceof Uint8Array)) throw new TypeError(`plan step ${step.op}: ${name} must be a string`);
        if (typeof value === 'string' && value.includes('\0')) throw new TypeError(`plan step ${step.op}: ${name} contains a NUL byte`);
        return { kind, value: strBytes(value) };
      case 'strv':
        for (const x of value as readonly string[]) {
          if (x.includes('\0')) throw new TypeError(`plan step ${step.op}: ${name} contains a NUL byte`);
        }
        return { kind, value: (value as readonly string[]).map((x) => Buffer.from(x, 'utf8')) };
      case 'intv':
        return { kind, value };
    }
  });
}

function fieldSize(f: Field): number {
  switch (f.kind) {
    case 'int':
      return 4 + 8;
    case 'str':
      return 4 + 4 + (f.value as Uint8Array).length + 1;
    case 'strv':
      return 4 + 4 + (f.value as Uint8Array[]).reduce((n, b) => n + 4 + b.length + 1, 0);
    case 'intv':
      return 4 + 4 + 8 * (f.value as readonly number[]).length;
  }
}

function writeInt64(buf: Buffer, off: number, v: number | bigint): void {
  if (typeof v === 'number' && Number.isSafeInteger(v)) {
    // Two halves: cheaper than a BigInt, and exact for safe integers.
    buf.writeUInt32LE(v >>> 0, off);
    buf.writeInt32LE(Math.floor(v / 0x100000000), off + 4);
  } else {
    buf.writeBigInt64LE(toInt64(v), off);
  }
}

function writeStr(buf: Buffer, off: number, bytes: Uint8Array): number {
  buf.writeUInt32LE(bytes.length, off);
  buf.set(bytes, off + 4);
  buf[off + 4 + bytes.length] = 0;
  return off + 4 + bytes.length + 1;
}

export function encodePlan(plan: Plan): Buffer {
  const steps = plan.steps.map((step) => ({ step, fields: fieldsOf(step) }));
  const size = 12 + steps.reduce((n, s) => n + 8 + s.fields.reduce((m, f) => m + fieldSize(f), 0), 0);
  const buf = Buffer.alloc(size);
  buf.writeUInt32LE(PLAN_MAGIC, 0);
  buf.writeUInt32LE(PLAN_VERSION, 4);
  buf.writeUInt32LE(plan.steps.length, 8);
  let off = 12;
  for (const { step, fields } of steps) {
    buf.writeUInt16LE(OPS[step.op].code, off);
    buf.writeUInt16LE(step.flags, off + 2);
    buf.writeUInt16LE(fields.length, off + 4);
    off += 8;
    for (const f of fields) {
      buf[off] = ArgKind[f.kind];
      off += 4;
      switch (f.kind) {
        case 'int':
          writeInt64(buf, off, f.value as number | bigint);
          off += 8;
          break;
        case 'str':
          off = writeStr(buf, off, f.value as Uint8Array);
          break;
        case 'strv': {
          const list = f.value as Uint8Array[];
          buf.writeUInt32LE(list.length, off);
          off += 4;
          for (const b of list) off = writeStr(buf, off, b);
          break;
        }
        case 'intv': {
          const list = f.value as readonly number[];
          buf.writeUInt32LE(list.length, off);
          off += 4;
          for (const n of list) {
            writeInt64(buf, off, n);
            off += 8;
          }
          break;
        }
      }
    }
  }
  return buf;
}

/** Human-readable listing of a plan, for `--debug` and tests. */
export function describePlan(plan: Plan): string[] {
  return plan.steps.map((s, i) => `${i}: ${s.op} ${s.what}`);
}
