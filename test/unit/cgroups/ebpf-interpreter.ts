/**
 * A tiny interpreter for the eBPF instructions the device filter compiler
 * emits (32-bit loads, ALU32 and/rsh/mov, 64-bit jne/jeq, exit), run on a
 * struct bpf_cgroup_dev_ctx, so the compiled program's decisions can be
 * checked without the kernel. Unknown opcodes throw.
 */
import { BPF, type BpfInsn } from '../../../src/runtime/cgroups/devices/bpf.ts';

const U32 = 0xffffffffn;
const U64 = (1n << 64n) - 1n;
const imm64 = (imm: number): bigint => BigInt.asUintN(64, BigInt(imm));

export function runDeviceProgram(prog: readonly BpfInsn[], ctx: { type: number; access: number; major: number; minor: number }): number {
  const words = [BigInt(((ctx.access << 16) | ctx.type) >>> 0), BigInt(ctx.major >>> 0), BigInt(ctx.minor >>> 0)];
  const r: bigint[] = new Array<bigint>(11).fill(0n);
  for (let pc = 0, steps = 0; pc < prog.length && steps < 10000; pc++, steps++) {
    const i = prog[pc];
    if (i === undefined) break;
    const reg = (n: number): bigint => r[n] ?? 0n;
    switch (i.code) {
      case BPF.LDX_MEM_W: {
        if (i.src !== 1 || i.off % 4 !== 0) throw new Error(`pc ${pc}: load from r${i.src}+${i.off}`);
        r[i.dst] = words[i.off / 4] ?? 0n;
        break;
      }
      case BPF.ALU_AND_K: r[i.dst] = (reg(i.dst) & BigInt(i.imm >>> 0)) & U32; break;
      case BPF.ALU_RSH_K: r[i.dst] = (reg(i.dst) & U32) >> BigInt(i.imm); break;
      case BPF.ALU_MOV_K: r[i.dst] = BigInt(i.imm >>> 0); break;
      case BPF.ALU_MOV_X: r[i.dst] = reg(i.src) & U32; break;
      case BPF.JMP_JNE_K: if ((reg(i.dst) & U64) !== imm64(i.imm)) pc += i.off; break;
      case BPF.JMP_JNE_X: if (reg(i.dst) !== reg(i.src)) pc += i.off; break;
      case BPF.JMP_JEQ_K: if ((reg(i.dst) & U64) === imm64(i.imm)) pc += i.off; break;
      case BPF.JMP_EXIT: return Number(reg(0));
      default: throw new Error(`pc ${pc}: opcode 0x${i.code.toString(16)} not handled`);
    }
  }
  throw new Error('program ran off its end');
}
