/**
 * The reader of berth-monitor's logs (CRI text format, rotated files):
 * records with their time, stream and partial flag; since/until/tail;
 * follow across a rotation until the writer is done; lines that are not
 * records (a crash cut the last one) are skipped.
 */
import assert from 'node:assert/strict';
import { appendFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseRecord, parseTime, readLog, type LogRecord, type ReadOptions } from '../../../src/engine/monitor/log-reader.ts';
import { tempDir } from '../../helpers/cleanup.ts';

const T = (s: number): string => `2026-12-06T22:00:${String(s).padStart(2, '0')}.000000123Z`;

async function collect(path: string, o: ReadOptions): Promise<string[]> {
  const out: string[] = [];
  for await (const r of readLog(path, o)) out.push(show(r));
  return out;
}
const show = (r: LogRecord): string => `${r.stream[3]}${r.partial ? 'P' : 'F'}:${r.bytes.toString()}`;

test('a record carries its time to the nanosecond, stream, partial flag and raw bytes', () => {
  const r = parseRecord(Buffer.from(`${T(1)} stderr P  two spaces kept \u00e9`));
  assert.ok(r);
  assert.equal(r.time, BigInt(Date.UTC(2026, 11, 6, 22, 0, 1)) * 1_000_000n + 123n);
  assert.equal(r.stream, 'stderr');
  assert.equal(r.partial, true);
  assert.equal(r.bytes.toString(), ' two spaces kept \u00e9');
  assert.equal(parseRecord(Buffer.from(`${T(1)} stdin F x`)), undefined, 'an unknown stream is no record');
  assert.equal(parseRecord(Buffer.from('2026-12-06T22:00:0')), undefined, 'a cut line is no record');
  assert.equal(parseTime('2026-12-06T22:00:01Z'), BigInt(Date.UTC(2026, 11, 6, 22, 0, 1)) * 1_000_000n);
});

test('rotated files are read oldest first, then filtered by since, until and tail', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'ctr.log');
  writeFileSync(`${path}.2`, `${T(1)} stdout F one\n`);
  writeFileSync(`${path}.1`, `${T(2)} stdout P tw\n${T(3)} stdout F o\n`);
  writeFileSync(path, `${T(4)} stderr F three\n${T(5)} stdout F four\n${T(6)} stdout F fi`);
  assert.deepEqual(await collect(path, { maxFiles: 3 }), ['oF:one', 'oP:tw', 'oF:o', 'eF:three', 'oF:four']);
  assert.deepEqual(await collect(path, { maxFiles: 2 }), ['oP:tw', 'oF:o', 'eF:three', 'oF:four'], 'files beyond maxFiles are not read');
  const since = parseTime(T(3))!;
  const until = parseTime(T(5))!;
  assert.deepEqual(await collect(path, { maxFiles: 3, since, until }), ['oF:o', 'eF:three']);
  assert.deepEqual(await collect(path, { maxFiles: 3, tail: 3 }), ['oP:tw', 'oF:o', 'eF:three', 'oF:four'], 'a partial record belongs to its line');
  assert.deepEqual(await collect(path, { maxFiles: 3, tail: 0 }), []);
});

test('follow reads what is appended, across a rotation, until the writer is done', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'ctr.log');
  writeFileSync(path, `${T(1)} stdout F before\n`);
  let done = false;
  const seen: string[] = [];
  const reading = (async () => {
    for await (const r of readLog(path, { maxFiles: 2, follow: { done: () => done, pollMs: 5 } })) seen.push(show(r));
  })();
  const until = async (n: number): Promise<void> => {
    while (seen.length < n) await new Promise((r) => setImmediate(r));
  };
  await until(1);
  appendFileSync(path, `${T(2)} stdout F app`);
  appendFileSync(path, `ended\n`);
  await until(2);
  // Written just before the rotation, after the reader's last look: read from PATH.1.
  appendFileSync(path, `${T(3)} stdout F last of the old file\n`);
  renameSync(path, `${path}.1`);
  writeFileSync(path, `${T(4)} stderr F rotated\n`);
  await until(4);
  done = true;
  await reading;
  assert.deepEqual(seen, ['oF:before', 'oF:appended', 'oF:last of the old file', 'eF:rotated']);
});
