/**
 * A classic-BPF assembler with symbolic labels. Code generation emits
 * instructions whose jumps name labels; `assemble` lays them out, inserts
 * long jumps where a conditional jump's 8-bit offset cannot reach its target
 * (a copy of the target when it is a return, a `ja` otherwise, placed right
 * after the jumping instruction), and encodes `struct sock_filter[]`.
 *
 * All jumps in classic BPF go forward, so a label must be placed after every
 * instruction that jumps to it; the assembler checks this.
 */
import { internal } from '../../errors.ts';
import { BPF, BPF_MAX_COND_JUMP } from './constants.ts';

export class Label {
  /** Index of the instruction the label stands before; -1 until placed. */
  index = -1;
  readonly name: string;
  constructor(name: string) {
    this.name = name;
  }
}

export interface Insn {
  code: number;
  k: number;
  jt?: Label;
  jf?: Label;
}

export class Program {
  readonly insns: Insn[] = [];

  place(label: Label): void {
    if (label.index !== -1) throw internal('seccomp_label_twice', `seccomp: label ${label.name} placed twice`);
    label.index = this.insns.length;
  }

  /** Places a fresh label here and returns it. */
  here(name: string): Label {
    const label = new Label(name);
    this.place(label);
    return label;
  }

  load(offset: number): void {
    this.insns.push({ code: BPF.LD_W_ABS, k: offset });
  }

  and(k: number): void {
    this.insns.push({ code: BPF.ALU_AND_K, k: k >>> 0 });
  }

  ret(k: number): void {
    this.insns.push({ code: BPF.RET_K, k: k >>> 0 });
  }

  jump(code: number, k: number, jt: Label, jf: Label): void {
    this.insns.push({ code, k: k >>> 0, jt, jf });
  }

  ja(target: Label): void {
    this.insns.push({ code: BPF.JMP_JA, k: 0, jt: target });
  }
}

/** Fixed layout: instruction positions after long jumps have been inserted. */
interface Slot {
  insn: Insn;
  /** Resolved targets as slot references (index into the final list). */
  jt?: Slot | undefined;
  jf?: Slot | undefined;
  pos: number;
}

function isConditional(insn: Insn): boolean {
  return insn.code !== BPF.JMP_JA && insn.jt !== undefined;
}

/**
 * Lays out the program and returns the final instruction list with numeric
 * offsets. Long jumps are inserted until every conditional offset fits.
 */
export function layout(program: Program): { code: number; jt: number; jf: number; k: number }[] {
  const slots: Slot[] = program.insns.map((insn, pos) => ({ insn, pos }));
  const at = (label: Label | undefined, from: number): Slot | undefined => {
    if (label === undefined) return undefined;
    const target = slots[label.index];
    if (label.index <= from || target === undefined) {
      throw internal('seccomp_backward_jump', `seccomp: jump to ${label.name} does not go forward`);
    }
    return target;
  };
  slots.forEach((slot, i) => {
    slot.jt = at(slot.insn.jt, i);
    if (isConditional(slot.insn)) slot.jf = at(slot.insn.jf, i);
  });

  // Each pass widens the jumps that are too far; inserting shifts later
  // instructions, so repeat until a pass inserts nothing.
  for (;;) {
    slots.forEach((slot, i) => (slot.pos = i));
    const out: Slot[] = [];
    let inserted = false;
    for (const slot of slots) {
      out.push(slot);
      if (!isConditional(slot.insn)) continue;
      const fixes: Slot[] = [];
      for (const side of ['jt', 'jf'] as const) {
        const target = slot[side];
        if (target === undefined || target.pos - slot.pos - 1 <= BPF_MAX_COND_JUMP) continue;
        const near: Slot =
          target.insn.code === BPF.RET_K
            ? { insn: { code: BPF.RET_K, k: target.insn.k }, pos: -1 }
            : { insn: { code: BPF.JMP_JA, k: 0 }, jt: target, pos: -1 };
        slot[side] = near;
        fixes.push(near);
        inserted = true;
      }
      out.push(...fixes);
    }
    slots.length = 0;
    slots.push(...out);
    if (!inserted) break;
  }

  slots.forEach((slot, i) => (slot.pos = i));
  return slots.map((slot) => {
    const { insn } = slot;
    if (insn.code === BPF.JMP_JA) {
      const target = slot.jt;
      if (target === undefined) throw internal('seccomp_bad_ja', 'seccomp: ja without target');
      return { code: insn.code, jt: 0, jf: 0, k: target.pos - slot.pos - 1 };
    }
    if (isConditional(insn)) {
      if (slot.jt === undefined || slot.jf === undefined) throw internal('seccomp_bad_jump', 'seccomp: jump without targets');
      return { code: insn.code, jt: slot.jt.pos - slot.pos - 1, jf: slot.jf.pos - slot.pos - 1, k: insn.k };
    }
    return { code: insn.code, jt: 0, jf: 0, k: insn.k };
  });
}

/** Encodes instructions as `struct sock_filter[]` in host byte order. */
export function encode(insns: readonly { code: number; jt: number; jf: number; k: number }[], littleEndian: boolean): Uint8Array {
  const bytes = new Uint8Array(insns.length * 8);
  const view = new DataView(bytes.buffer);
  insns.forEach((insn, i) => {
    view.setUint16(i * 8, insn.code, littleEndian);
    view.setUint8(i * 8 + 2, insn.jt);
    view.setUint8(i * 8 + 3, insn.jf);
    view.setUint32(i * 8 + 4, insn.k >>> 0, littleEndian);
  });
  return bytes;
}
