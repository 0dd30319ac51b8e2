/**
 * The cgroup v2 device filter: a BPF_PROG_TYPE_CGROUP_DEVICE program
 * compiled from the emulated rules, with the same layout as runc's
 * devicefilter (itself from crun): load the access type, major and minor
 * into registers, then one block per exception that returns its verdict
 * when type, access, major and minor match, and the default at the end.
 *
 * One deliberate difference: an allow block matches when the requested
 * access is a subset of the rule's (as runc), but a deny block (allow-all
 * mode) matches when they overlap, as the v1 kernel does. runc's subset test
 * lets open(O_RDWR) through a rule that denies only "w".
 *
 * Written here rather than taken from a library: no npm package assembles
 * eBPF, and the program is a few dozen fixed instructions.
 */
import { DeviceEmulator, accessBits, type DeviceRule } from './emulator.ts';

/** The license the kernel is told (it gates GPL-only helpers; this program calls none). */
export const DEVICE_PROGRAM_LICENSE = 'Apache';

// struct bpf_cgroup_dev_ctx { u32 access_type /* (access << 16) | type */; u32 major; u32 minor; }
export const BPF_DEVCG_DEV_BLOCK = 1;
export const BPF_DEVCG_DEV_CHAR = 2;
export const BPF_DEVCG_ACC_MKNOD = 1;
export const BPF_DEVCG_ACC_READ = 2;
export const BPF_DEVCG_ACC_WRITE = 4;

// Opcodes (linux/bpf_common.h, linux/bpf.h).
export const BPF = {
  LDX_MEM_W: 0x61, // BPF_LDX | BPF_MEM | BPF_W
  ALU_AND_K: 0x54, // BPF_ALU | BPF_AND | BPF_K (32-bit)
  ALU_RSH_K: 0x74,
  ALU_MOV_K: 0xb4,
  ALU_MOV_X: 0xbc,
  JMP_JNE_K: 0x55, // BPF_JMP | BPF_JNE | BPF_K
  JMP_JNE_X: 0x5d,
  JMP_JEQ_K: 0x15,
  JMP_EXIT: 0x95,
} as const;

export interface BpfInsn {
  code: number;
  dst: number;
  src: number;
  off: number;
  imm: number;
}

const insn = (code: number, dst: number, src: number, off: number, imm: number): BpfInsn => ({ code, dst, src, off, imm });

/** Access bits of the emulator (r=1 w=2 m=4) as BPF_DEVCG_ACC_* bits. */
function bpfAccess(access: string): number {
  const bits = accessBits(access);
  return (bits & 1 ? BPF_DEVCG_ACC_READ : 0) | (bits & 2 ? BPF_DEVCG_ACC_WRITE : 0) | (bits & 4 ? BPF_DEVCG_ACC_MKNOD : 0);
}

/** One block; `off` of the jumps is filled in once the block's length is known. */
function ruleBlock(rule: DeviceRule): BpfInsn[] {
  const block: BpfInsn[] = [];
  const NEXT = 0; // placeholder offset
  block.push(insn(BPF.JMP_JNE_K, 2, 0, NEXT, rule.type === 'c' ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK));
  const access = bpfAccess(rule.access);
  if (access !== (BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE | BPF_DEVCG_ACC_MKNOD)) {
    // Allow: the requested access must be a subset, (R3 & access) == R3. Deny: any overlap, (R3 & access) != 0. R1 is scratch.
    block.push(insn(BPF.ALU_MOV_X, 1, 3, 0, 0), insn(BPF.ALU_AND_K, 1, 0, 0, access));
    block.push(rule.allow ? insn(BPF.JMP_JNE_X, 1, 3, NEXT, 0) : insn(BPF.JMP_JEQ_K, 1, 0, NEXT, 0));
  }
  if (rule.major >= 0) block.push(insn(BPF.JMP_JNE_K, 4, 0, NEXT, rule.major | 0));
  if (rule.minor >= 0) block.push(insn(BPF.JMP_JNE_K, 5, 0, NEXT, rule.minor | 0));
  block.push(insn(BPF.ALU_MOV_K, 0, 0, 0, rule.allow ? 1 : 0), insn(BPF.JMP_EXIT, 0, 0, 0, 0));
  // Every jump goes to the first instruction after the block.
  block.forEach((ins, i) => {
    if (ins.code === BPF.JMP_JNE_K || ins.code === BPF.JMP_JNE_X || ins.code === BPF.JMP_JEQ_K) ins.off = block.length - i - 1;
  });
  return block;
}

export function compileDeviceFilter(rules: readonly DeviceRule[]): BpfInsn[] {
  const emu = DeviceEmulator.from(rules);
  const prog: BpfInsn[] = [
    insn(BPF.LDX_MEM_W, 2, 1, 0, 0), // R2 = ctx->access_type
    insn(BPF.ALU_AND_K, 2, 0, 0, 0xffff), // R2 &= 0xffff: the device type
    insn(BPF.LDX_MEM_W, 3, 1, 0, 0), // R3 = ctx->access_type
    insn(BPF.ALU_RSH_K, 3, 0, 0, 16), // R3 >>= 16: the access
    insn(BPF.LDX_MEM_W, 4, 1, 4, 0), // R4 = ctx->major
    insn(BPF.LDX_MEM_W, 5, 1, 8, 0), // R5 = ctx->minor
  ];
  for (const rule of emu.rules()) prog.push(...ruleBlock(rule));
  prog.push(insn(BPF.ALU_MOV_K, 0, 0, 0, emu.defaultAllow ? 1 : 0), insn(BPF.JMP_EXIT, 0, 0, 0, 0));
  return prog;
}

/** struct bpf_insn[] in memory order (little-endian hosts: dst in the low nibble). */
export function encodeBpf(prog: readonly BpfInsn[]): Uint8Array {
  const buf = Buffer.alloc(prog.length * 8);
  prog.forEach((ins, i) => {
    buf.writeUInt8(ins.code, i * 8);
    buf.writeUInt8((ins.src << 4) | ins.dst, i * 8 + 1);
    buf.writeInt16LE(ins.off, i * 8 + 2);
    buf.writeInt32LE(ins.imm, i * 8 + 4);
  });
  return buf;
}

export function decodeBpf(bytes: Uint8Array): BpfInsn[] {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: BpfInsn[] = [];
  for (let o = 0; o + 8 <= buf.length; o += 8) {
    const regs = buf.readUInt8(o + 1);
    out.push({ code: buf.readUInt8(o), dst: regs & 0xf, src: regs >> 4, off: buf.readInt16LE(o + 2), imm: buf.readInt32LE(o + 4) });
  }
  return out;
}
