/** The sync protocol's framing (src/runtime/host/frames.ts): frames cut anywhere come out whole, a bogus length stops the reader. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { frame, FrameReader } from '../../../../src/runtime/host/frames.ts';
import { PLAN_MAX_BYTES } from '../../../../src/runtime/plan/opcodes.ts';

test('frames written back to back and read in pieces of every size come out whole and in order', () => {
  const stream = Buffer.concat([frame(1, Buffer.from([7, 0, 0, 0])), frame(2, Buffer.from('created')), frame(3, new Uint8Array(0))]);
  for (let size = 1; size <= stream.length; size++) {
    const reader = new FrameReader();
    const got: [number, string][] = [];
    for (let off = 0; off < stream.length; off += size) {
      assert.equal(reader.push(stream.subarray(off, off + size), (type, payload) => got.push([type, payload.toString('hex')])), true);
    }
    assert.deepEqual(got, [[1, '07000000'], [2, Buffer.from('created').toString('hex')], [3, '']], `pieces of ${size}`);
  }
});

test('a length beyond the largest plan is not the protocol: nothing is delivered', () => {
  const bogus = Buffer.alloc(8);
  bogus.writeUInt32LE(1, 0);
  bogus.writeUInt32LE(PLAN_MAX_BYTES + 1, 4);
  let delivered = 0;
  assert.equal(new FrameReader().push(bogus, () => delivered++), false);
  assert.equal(delivered, 0);
});
