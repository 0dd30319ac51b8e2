/** The wire contract: codes are unique, kinds are known, and the generated C files are what opcodes.ts generates. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, test } from 'node:test';
import { ArgKind, Msg, OPS } from '../../../../src/runtime/plan/opcodes.ts';
import { GENERATED } from '../../../../scripts/gen-plan-header.ts';

describe('plan opcodes', () => {
  test('operation codes and message types are unique and fit their fields', () => {
    const codes = Object.values(OPS).map((o) => o.code);
    assert.equal(new Set(codes).size, codes.length);
    for (const c of codes) assert.ok(c > 0 && c < 65536);
    const msgs = Object.values(Msg);
    assert.equal(new Set(msgs).size, msgs.length);
    for (const [name, op] of Object.entries(OPS)) {
      for (const kind of Object.values(op.args)) assert.ok(kind in ArgKind, `${name}: ${kind}`);
    }
  });

  for (const [path, render] of Object.entries(GENERATED)) {
    test(`${relative(join(import.meta.dirname, '../../../..'), path)} is not stale (run scripts/gen-plan-header.ts after changing opcodes.ts)`, () => {
      assert.equal(readFileSync(path, 'utf8'), render());
    });
  }
});
