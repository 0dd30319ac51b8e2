/**
 * containerLogs (src/engine/logs.ts): the monitor's records as Docker's
 * multiplexed stream, in chunks of about 64 KiB, each stream's bytes in
 * order and whole; -t stamps each line; a terminal's log is raw.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { containerLogs, type LogsOptions } from '../../../src/engine/logs.ts';
import type { ContainerView } from '../../../src/engine/engine.ts';
import { FrameDecoder, StreamType } from '../../../src/engine/monitor/frames.ts';

const T = (s: number, ns = 5): string => `2026-12-07T06:00:${String(s).padStart(2, '0')}.${String(ns).padStart(9, '0')}Z`;

async function logsOf(lines: string[], o: Partial<LogsOptions> = {}, tty = false): Promise<Buffer[]> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-logs-'));
  try {
    writeFileSync(join(dir, 'ctr.log'), lines.map((l) => `${l}\n`).join(''));
    const view = { options: { tty }, paths: { log: join(dir, 'ctr.log') } } as unknown as ContainerView;
    const chunks: Buffer[] = [];
    for await (const c of containerLogs(view, { stdout: true, stderr: true, timestamps: false, follow: false, ...o }, () => false, 3)) chunks.push(c);
    return chunks;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function demux(chunks: Buffer[]): { out: string; err: string; frames: number } {
  const d = new FrameDecoder();
  let out = '';
  let err = '';
  let frames = 0;
  for (const c of chunks) {
    for (const f of d.push(c)) {
      frames++;
      if (f.stream === StreamType.stdout) out += f.payload.toString();
      else if (f.stream === StreamType.stderr) err += f.payload.toString();
    }
  }
  return { out, err, frames };
}

test('thousands of lines come in few chunks, a frame per run of one stream, every byte in order', async () => {
  const lines: string[] = [];
  let out = '';
  let err = '';
  for (let i = 0; i < 5000; i++) {
    const isErr = Math.floor(i / 1000) % 2 === 1;
    const text = `line ${i} ${'y'.repeat(40)}`;
    lines.push(`${T(i % 60)} ${isErr ? 'stderr' : 'stdout'} F ${text}`);
    if (isErr) err += `${text}\n`;
    else out += `${text}\n`;
  }
  lines.push(`${T(1)} stdout P no newline `, `${T(1)} stdout F yet`);
  out += 'no newline yet\n';
  const chunks = await logsOf(lines);
  const got = demux(chunks);
  assert.equal(got.out, out);
  assert.equal(got.err, err);
  assert.ok(chunks.length <= 6, `${chunks.length} chunks for ${lines.length} records`);
  assert.ok(chunks.every((c) => c.length <= 64 * 1024 + 8 + 200), 'about 64 KiB at most');
});

test('-t stamps each line once (a partial record\'s rest is not stamped again); a terminal\'s log is raw bytes', async () => {
  const lines = [`${T(1, 123)} stdout P a`, `${T(2)} stdout F b`, `${T(3, 7)} stdout F c`, 'cut by a crash'];
  assert.equal(demux(await logsOf(lines, { timestamps: true })).out, `${T(1, 123)} ab\n${T(3, 7)} c\n`);
  assert.equal(Buffer.concat(await logsOf(lines, {}, true)).toString(), 'ab\nc\n');
  assert.equal(demux(await logsOf(lines, { since: 2_000_000_000n + BigInt(Date.UTC(2026, 11, 7, 6, 0, 0)) * 1_000_000n })).out, 'b\nc\n', '--since reads the times');
});
