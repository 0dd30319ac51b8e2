import assert from 'node:assert/strict';
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { DirectWriter } from '../../../src/cli/direct-write.ts';
import { tempDir } from '../../helpers/cleanup.ts';

/** A stand-in for process.stdout that records what it was given. */
function recordingStream(): { stream: NodeJS.WriteStream; written: string[] } {
  const written: string[] = [];
  const stream = { write: (chunk: string | Uint8Array) => written.push(Buffer.from(chunk).toString('utf8')) > 0 };
  return { stream: stream as unknown as NodeJS.WriteStream, written };
}

test('output goes straight to the descriptor, whole and in order, without opening the stream', (t) => {
  const file = join(tempDir(t), 'out');
  const fd = openSync(file, 'w');
  try {
    let opened = false;
    const out = new DirectWriter(fd, () => {
      opened = true;
      return recordingStream().stream;
    });
    out.write('{"id":"web",');
    out.write('"note":"→ ≤ 1.5"}\n');
    assert.equal(readFileSync(file, 'utf8'), '{"id":"web","note":"→ ≤ 1.5"}\n');
    assert.equal(opened, false);
    assert.equal(out.stream, undefined);
  } finally {
    closeSync(fd);
  }
});

test('a descriptor that refuses the write hands it, and everything after, to the stream', (t) => {
  const file = join(tempDir(t), 'read-only');
  writeFileSync(file, '');
  // Open for reading only: every write fails with EBADF, as a write to a reader that went away fails with EPIPE.
  const fd = openSync(file, 'r');
  try {
    const { stream, written } = recordingStream();
    const out = new DirectWriter(fd, () => stream);
    out.write('first\n');
    out.write('second\n');
    assert.deepEqual(written, ['first\n', 'second\n']);
    assert.equal(out.stream, stream);
    assert.equal(readFileSync(file, 'utf8'), '');
  } finally {
    closeSync(fd);
  }
});
