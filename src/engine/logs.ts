/**
 * `docker logs` from the monitor's CRI-format log: records filtered by
 * stream, time and tail, with docker's fixed RFC 3339 timestamps on
 * request, framed as Docker's multiplexed stream (raw for a terminal,
 * whose output is one stream), and followed until the container stops.
 */
import type { ContainerView } from './engine.ts';
import { encodeFrame, StreamType } from './monitor/frames.ts';
import { readLogBatches } from './monitor/log-reader.ts';

export interface LogsOptions {
  stdout: boolean;
  stderr: boolean;
  /** Unix nanoseconds. */
  since?: bigint;
  until?: bigint;
  tail?: number;
  timestamps: boolean;
  follow: boolean;
  signal?: AbortSignal;
}

/** RFC3339NanoFixed, as docker's daemon writes log timestamps. */
export function fixedTime(ns: bigint): string {
  const iso = new Date(Number(ns / 1_000_000n)).toISOString();
  return `${iso.slice(0, 19)}.${(ns % 1_000_000_000n).toString().padStart(9, '0')}Z`;
}

/** What one chunk of the answer holds at most before it is handed on (one write on the wire). */
const CHUNK = 64 * 1024;

/**
 * The log as the bytes of the answer, in chunks of about 64 KiB: records
 * of one stream in a row share a frame (clients read frames as a stream,
 * not as lines), so a log of a million short lines is some hundreds of
 * writes, not a million frames and as many turns of the event loop.
 */
export async function* containerLogs(view: ContainerView, o: LogsOptions, running: () => boolean, maxFiles: number): AsyncGenerator<Buffer> {
  const tty = view.options.tty;
  let lineStart = true;
  let parts: Buffer[] = [];
  let size = 0;
  let stream: 'stdout' | 'stderr' | undefined;
  const frame = (): Buffer | undefined => {
    if (size === 0 || stream === undefined) return undefined;
    const body = Buffer.concat(parts, size);
    parts = [];
    size = 0;
    return tty ? body : encodeFrame(stream === 'stdout' ? StreamType.stdout : StreamType.stderr, body);
  };
  let out: Buffer[] = [];
  let outSize = 0;
  const endFrame = (): void => {
    const f = frame();
    if (f === undefined) return;
    out.push(f);
    outSize += f.length;
  };
  const flush = (): Buffer | undefined => {
    endFrame();
    if (outSize === 0) return undefined;
    const chunk = out.length === 1 ? out[0]! : Buffer.concat(out, outSize);
    out = [];
    outSize = 0;
    return chunk;
  };
  const NEWLINE = Buffer.from('\n');
  const batches = readLogBatches(view.paths.log, {
    maxFiles,
    ...(o.since === undefined ? {} : { since: o.since }),
    ...(o.until === undefined ? {} : { until: o.until }),
    ...(o.tail === undefined ? {} : { tail: o.tail }),
    ...(o.follow ? { follow: { done: () => !running(), ...(o.signal === undefined ? {} : { signal: o.signal }) } } : {}),
  });
  for await (const batch of batches) {
    for (const r of batch) {
      if (r.stream === 'stdout' ? !o.stdout : !o.stderr) continue;
      if (stream !== r.stream) {
        endFrame();
        stream = r.stream;
      }
      if (o.timestamps && lineStart) {
        const stamp = Buffer.from(`${fixedTime(r.time)} `);
        parts.push(stamp);
        size += stamp.length;
      }
      parts.push(r.bytes);
      size += r.bytes.length;
      if (!r.partial) {
        parts.push(NEWLINE);
        size++;
      }
      lineStart = !r.partial;
      if (size + outSize >= CHUNK) yield flush()!;
    }
    // What was read is handed on before the next look at the file (following, that may be a while).
    const chunk = flush();
    if (chunk !== undefined) yield chunk;
  }
  const last = flush();
  if (last !== undefined) yield last;
}
