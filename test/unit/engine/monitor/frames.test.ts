/** Docker's multiplexed stream framing: the bytes on the wire, and a decoder that takes them split anywhere. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeFrame, FrameDecoder, StreamType } from '../../../../src/engine/monitor/frames.ts';
import { isBerthError } from '../../../../src/errors.ts';

test('a frame is the stream byte, three zeros, the length big-endian, then the payload', () => {
  const frame = encodeFrame(StreamType.stderr, 'hello');
  assert.deepEqual([...frame.subarray(0, 8)], [2, 0, 0, 0, 0, 0, 0, 5]);
  assert.equal(frame.subarray(8).toString(), 'hello');
  const big = encodeFrame(StreamType.stdout, Buffer.alloc(0x1_02_03));
  assert.deepEqual([...big.subarray(0, 8)], [1, 0, 0, 0, 0, 0x01, 0x02, 0x03]);
});

test('the decoder gives the same frames whether bytes come whole, byte by byte or split anywhere', () => {
  const frames = [encodeFrame(StreamType.stdout, 'one'), encodeFrame(StreamType.stderr, ''), encodeFrame(StreamType.stdout, 'x'.repeat(70_000)), encodeFrame(StreamType.systemerr, 'boom')];
  const wire = Buffer.concat(frames);
  const want = [
    { stream: 1, payload: 'one' },
    { stream: 2, payload: '' },
    { stream: 1, payload: 'x'.repeat(70_000) },
    { stream: 3, payload: 'boom' },
  ];
  const decode = (chunks: Buffer[]): { stream: number; payload: string }[] => {
    const d = new FrameDecoder();
    const out = chunks.flatMap((c) => d.push(c)).map((f) => ({ stream: f.stream, payload: f.payload.toString() }));
    assert.equal(d.buffered, 0);
    return out;
  };
  assert.deepEqual(decode([wire]), want);
  assert.deepEqual(decode([...wire.subarray(0, 200)].map((b) => Buffer.from([b])).concat([wire.subarray(200)])), want);
  for (const cut of [1, 7, 8, 9, 11, 12, 13, 40_000, wire.length - 1]) {
    assert.deepEqual(decode([wire.subarray(0, cut), wire.subarray(cut)]), want, `cut at ${cut}`);
  }
});

test('a frame cut short stays buffered until the rest comes', () => {
  const d = new FrameDecoder();
  const frame = encodeFrame(StreamType.stdout, 'abcdef');
  assert.deepEqual(d.push(frame.subarray(0, 10)), []);
  assert.equal(d.buffered, 10);
  const [f] = d.push(frame.subarray(10));
  assert.equal(f?.payload.toString(), 'abcdef');
});

test('bytes that are not frames (a terminal\'s raw stream) are refused, not misread', () => {
  const d = new FrameDecoder();
  assert.throws(() => d.push(Buffer.from('hello world\n')), (err) => isBerthError(err, 'stream_frame_invalid'));
  assert.throws(() => new FrameDecoder().push(Buffer.from([1, 0, 1, 0, 0, 0, 0, 0])), (err) => isBerthError(err, 'stream_frame_invalid'));
});
