import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { isBerthError } from '../../../src/errors.ts';
import { encode, Label, layout, Program } from '../../../src/runtime/seccomp/assembler.ts';
import { BPF } from '../../../src/runtime/seccomp/constants.ts';
import { decode, describeAction, run } from './bpf-interpreter.ts';

/** jeq nr==K → far target; padding of `gap` returns in between. */
function farJump(gap: number, target: 'ret' | 'code'): Program {
  const p = new Program();
  const far = new Label('far');
  const near = new Label('near');
  p.load(0);
  p.jump(BPF.JMP_JEQ_K, 7, far, near);
  p.place(near);
  for (let i = 0; i < gap; i++) p.ret(0x00050000 + (i % 100));
  p.place(far);
  if (target === 'code') p.load(0);
  p.ret(0x7fff0000);
  return p;
}

describe('seccomp assembler', () => {
  for (const target of ['ret', 'code'] as const) {
    it(`widens a conditional jump past 255 instructions (target: ${target})`, () => {
      const insns = layout(farJump(300, target));
      assert.ok(insns.every((i) => i.jt <= 255 && i.jf <= 255));
      const program = decode(encode(insns, true));
      assert.equal(describeAction(run(program, { nr: 7, arch: 0 })), 'ALLOW');
      assert.equal(describeAction(run(program, { nr: 8, arch: 0 })), 'ERRNO(0)');
      assert.equal(program.length, 300 + (target === 'code' ? 5 : 4));
    });
  }

  it('keeps short jumps as they are', () => {
    const insns = layout(farJump(255, 'ret'));
    assert.equal(insns.length, 258);
    assert.equal(insns[1]?.jt, 255);
  });

  it('refuses a backward jump', () => {
    const p = new Program();
    const back = p.here('back');
    p.load(0);
    p.jump(BPF.JMP_JEQ_K, 1, back, back);
    assert.throws(() => layout(p), (err: unknown) => isBerthError(err, 'seccomp_backward_jump'));
  });

  it('encodes in the requested byte order', () => {
    const insns = [{ code: 0x20, jt: 1, jf: 2, k: 0x01020304 }];
    assert.deepEqual([...encode(insns, true)], [0x20, 0x00, 1, 2, 4, 3, 2, 1]);
    assert.deepEqual([...encode(insns, false)], [0x00, 0x20, 1, 2, 1, 2, 3, 4]);
  });
});

describe('test BPF interpreter', () => {
  it('refuses loads outside seccomp_data and programs without a return', () => {
    assert.throws(() => run([{ code: 0x20, jt: 0, jf: 0, k: 64 }, { code: 0x06, jt: 0, jf: 0, k: 0 }], { nr: 0, arch: 0 }), /bad load offset/);
    assert.throws(() => run([{ code: 0x20, jt: 0, jf: 0, k: 0 }], { nr: 0, arch: 0 }), /without a return/);
  });

  it('reads 64-bit arguments as two little-endian words', () => {
    const hi = [{ code: 0x20, jt: 0, jf: 0, k: 20 }, { code: 0x16, jt: 0, jf: 0, k: 0 }];
    const lo = [{ code: 0x20, jt: 0, jf: 0, k: 16 }, { code: 0x16, jt: 0, jf: 0, k: 0 }];
    assert.equal(run(hi, { nr: 0, arch: 0, args: [0x11223344_55667788n] }), 0x11223344);
    assert.equal(run(lo, { nr: 0, arch: 0, args: [0x11223344_55667788n] }), 0x55667788);
  });
});
