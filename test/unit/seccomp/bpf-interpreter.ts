/**
 * A classic-BPF interpreter for seccomp programs, written for the tests
 * independently of the compiler (it decodes raw `struct sock_filter` bytes
 * with its own opcode table). It runs a program on a `struct seccomp_data`
 * and returns the 32-bit SECCOMP_RET_* value, enforcing what the kernel's
 * seccomp checker enforces: forward jumps inside the program, aligned 32-bit
 * loads inside seccomp_data, a final return.
 */

export interface SeccompData {
  nr: number;
  arch: number;
  instructionPointer?: bigint;
  /** Up to six 64-bit arguments; missing ones are 0. */
  args?: readonly bigint[];
}

export interface Decoded {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

const SECCOMP_DATA_SIZE = 64;
const MASK64 = (1n << 64n) - 1n;

export function decode(program: Uint8Array, littleEndian = true): Decoded[] {
  if (program.length % 8 !== 0) throw new Error(`program length ${program.length} is not a multiple of 8`);
  const view = new DataView(program.buffer, program.byteOffset, program.byteLength);
  const out: Decoded[] = [];
  for (let off = 0; off < program.length; off += 8) {
    out.push({
      code: view.getUint16(off, littleEndian),
      jt: view.getUint8(off + 2),
      jf: view.getUint8(off + 3),
      k: view.getUint32(off + 4, littleEndian),
    });
  }
  return out;
}

export function seccompDataBytes(data: SeccompData): DataView {
  const view = new DataView(new ArrayBuffer(SECCOMP_DATA_SIZE));
  view.setUint32(0, data.nr >>> 0, true);
  view.setUint32(4, data.arch >>> 0, true);
  view.setBigUint64(8, (data.instructionPointer ?? 0n) & MASK64, true);
  for (let i = 0; i < 6; i++) view.setBigUint64(16 + 8 * i, (data.args?.[i] ?? 0n) & MASK64, true);
  return view;
}

// Opcode fields (linux/bpf_common.h).
const cls = (code: number): number => code & 0x07;
const size = (code: number): number => code & 0x18;
const mode = (code: number): number => code & 0xe0;
const op = (code: number): number => code & 0xf0;
const src = (code: number): number => code & 0x08;
const BPF_LD = 0x00, BPF_LDX = 0x01, BPF_ST = 0x02, BPF_STX = 0x03, BPF_ALU = 0x04, BPF_JMP = 0x05, BPF_RET = 0x06, BPF_MISC = 0x07;
const BPF_W = 0x00;
const BPF_IMM = 0x00, BPF_ABS = 0x20, BPF_MEM = 0x60, BPF_LEN = 0x80;
const BPF_X = 0x08;

function alu(operation: number, a: number, operand: number): number {
  switch (operation) {
    case 0x00: return (a + operand) >>> 0;
    case 0x10: return (a - operand) >>> 0;
    case 0x20: return Math.imul(a, operand) >>> 0;
    case 0x30:
      if (operand === 0) throw new Error('division by zero');
      return Math.floor(a / operand) >>> 0;
    case 0x40: return (a | operand) >>> 0;
    case 0x50: return (a & operand) >>> 0;
    case 0x60: return operand >= 32 ? 0 : (a << operand) >>> 0;
    case 0x70: return operand >= 32 ? 0 : a >>> operand;
    case 0x80: return -a >>> 0;
    case 0x90:
      if (operand === 0) throw new Error('modulo by zero');
      return (a % operand) >>> 0;
    case 0xa0: return (a ^ operand) >>> 0;
    default: throw new Error(`unknown ALU op 0x${operation.toString(16)}`);
  }
}

function jumpTaken(operation: number, a: number, operand: number): boolean {
  switch (operation) {
    case 0x10: return a === operand; // JEQ
    case 0x20: return a > operand; // JGT
    case 0x30: return a >= operand; // JGE
    case 0x40: return (a & operand) !== 0; // JSET
    default: throw new Error(`unknown jump op 0x${operation.toString(16)}`);
  }
}

/** Runs the program; returns the SECCOMP_RET_* value as an unsigned 32-bit number. */
export function run(insns: readonly Decoded[], data: SeccompData): number {
  const bytes = seccompDataBytes(data);
  const mem = new Uint32Array(16);
  let a = 0;
  let x = 0;
  for (let pc = 0; pc < insns.length; pc++) {
    const insn = insns[pc];
    if (insn === undefined) break;
    const { code, k } = insn;
    switch (cls(code)) {
      case BPF_LD:
        if (size(code) !== BPF_W) throw new Error(`pc ${pc}: seccomp loads only 32-bit words`);
        if (mode(code) === BPF_ABS) {
          if (k % 4 !== 0 || k + 4 > SECCOMP_DATA_SIZE) throw new Error(`pc ${pc}: bad load offset ${k}`);
          a = bytes.getUint32(k, true);
        } else if (mode(code) === BPF_IMM) a = k >>> 0;
        else if (mode(code) === BPF_MEM) a = mem[k & 15] ?? 0;
        else if (mode(code) === BPF_LEN) a = SECCOMP_DATA_SIZE;
        else throw new Error(`pc ${pc}: unsupported load mode 0x${mode(code).toString(16)}`);
        break;
      case BPF_LDX:
        if (mode(code) === BPF_IMM) x = k >>> 0;
        else if (mode(code) === BPF_MEM) x = mem[k & 15] ?? 0;
        else if (mode(code) === BPF_LEN) x = SECCOMP_DATA_SIZE;
        else throw new Error(`pc ${pc}: unsupported ldx mode`);
        break;
      case BPF_ST:
        mem[k & 15] = a;
        break;
      case BPF_STX:
        mem[k & 15] = x;
        break;
      case BPF_ALU:
        a = alu(op(code), a, src(code) === BPF_X ? x : k >>> 0);
        break;
      case BPF_JMP: {
        if (op(code) === 0x00) {
          pc += k; // JA
        } else {
          pc += jumpTaken(op(code), a, src(code) === BPF_X ? x : k >>> 0) ? insn.jt : insn.jf;
        }
        if (pc + 1 >= insns.length) throw new Error(`jump past the end of the program`);
        break;
      }
      case BPF_RET: {
        const rval = code & 0x18;
        if (rval === 0x00) return k >>> 0; // BPF_K
        if (rval === 0x10) return a; // BPF_A
        throw new Error(`pc ${pc}: bad return source`);
      }
      case BPF_MISC:
        if (code === 0x07) x = a; // TAX
        else if (code === 0x87) a = x; // TXA
        else throw new Error(`pc ${pc}: unknown misc op`);
        break;
      default:
        throw new Error(`pc ${pc}: unknown class`);
    }
  }
  throw new Error('program ended without a return');
}

/** A readable name for a SECCOMP_RET_* value, for assertion messages. */
export function describeAction(ret: number): string {
  const data = ret & 0xffff;
  switch ((ret & 0xffff0000) >>> 0) {
    case 0x80000000: return 'KILL_PROCESS';
    case 0x00000000: return 'KILL_THREAD';
    case 0x00030000: return `TRAP(${data})`;
    case 0x00050000: return `ERRNO(${data})`;
    case 0x7fc00000: return 'NOTIFY';
    case 0x7ff00000: return `TRACE(${data})`;
    case 0x7ffc0000: return 'LOG';
    case 0x7fff0000: return 'ALLOW';
    default: return `0x${ret.toString(16)}`;
  }
}
