/**
 * `docker logs` from the monitor's CRI-format log: records filtered by
 * stream, time and tail, with docker's fixed RFC 3339 timestamps on
 * request, framed as Docker's multiplexed stream (raw for a terminal,
 * whose output is one stream), and followed until the container stops.
 */
import type { ContainerView } from './engine.ts';
import { encodeFrame, StreamType } from './monitor/frames.ts';
import { readLog } from './monitor/log-reader.ts';

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

export async function* containerLogs(view: ContainerView, o: LogsOptions, running: () => boolean, maxFiles: number): AsyncGenerator<Buffer> {
  const tty = view.options.tty;
  let lineStart = true;
  for await (const r of readLog(view.paths.log, {
    maxFiles,
    ...(o.since === undefined ? {} : { since: o.since }),
    ...(o.until === undefined ? {} : { until: o.until }),
    ...(o.tail === undefined ? {} : { tail: o.tail }),
    ...(o.follow ? { follow: { done: () => !running(), ...(o.signal === undefined ? {} : { signal: o.signal }) } } : {}),
  })) {
    if (r.stream === 'stdout' ? !o.stdout : !o.stderr) continue;
    const text = r.partial ? r.bytes : Buffer.concat([r.bytes, Buffer.from('\n')]);
    const payload = o.timestamps && lineStart ? Buffer.concat([Buffer.from(`${fixedTime(r.time)} `), text]) : text;
    lineStart = !r.partial;
    yield tty ? payload : encodeFrame(r.stream === 'stdout' ? StreamType.stdout : StreamType.stderr, payload);
  }
}
