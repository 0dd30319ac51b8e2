/**
 * Reads the container logs berth-monitor writes (native/monitor/log.c):
 * the CRI text format, one record a line,
 * `<RFC3339Nano> <stdout|stderr> <F|P> <content>`, rotated to PATH.1 ..
 * PATH.(N-1) (the highest number is the oldest). A P record's line goes
 * on in the next record; an F record's line ended with a newline.
 */
import { closeSync, openSync, readSync, fstatSync, statSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { errnoCode } from '../../errors.ts';

export interface LogRecord {
  /** Nanoseconds since the epoch. */
  readonly time: bigint;
  stream: 'stdout' | 'stderr';
  /** The line goes on in the next record of this stream (no newline after bytes). */
  partial: boolean;
  bytes: Buffer;
}

const TIME = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?Z$/;

/** Nanoseconds since the epoch of an RFC 3339 UTC time with up to 9 fraction digits. */
export function parseTime(text: string): bigint | undefined {
  const m = TIME.exec(text);
  if (!m) return undefined;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
  return BigInt(ms) * 1_000_000n + BigInt((m[7] ?? '').padEnd(9, '0'));
}

// Records come in runs within one second: the whole seconds of the last one are kept (a log of
// 100 MB is a million records, and a regex and a Date per record were most of reading it).
let lastSecond = '';
let lastSecondNs: bigint | undefined;

/** parseTime, with the whole seconds of the previous call reused. */
function recordTime(text: string): bigint | undefined {
  const dot = text.length > 20 && text.charCodeAt(19) === 0x2e && text.charCodeAt(text.length - 1) === 0x5a ? 19 : -1;
  if (dot < 0) return parseTime(text);
  const second = text.slice(0, 19);
  const fraction = text.slice(20, -1);
  if (!/^\d{1,9}$/.test(fraction)) return undefined;
  if (second !== lastSecond) {
    lastSecondNs = parseTime(`${second}Z`);
    lastSecond = second;
  }
  return lastSecondNs === undefined ? undefined : lastSecondNs + BigInt(fraction.padEnd(9, '0'));
}

const STDOUT = Buffer.from(' stdout ');
const STDERR = Buffer.from(' stderr ');

/** The time's shape, checked by its punctuation (the digits are checked when the time is asked for). */
function timeShaped(line: Buffer, end: number): boolean {
  return line[4] === 0x2d && line[7] === 0x2d && line[10] === 0x54 && line[13] === 0x3a && line[16] === 0x3a && line[end - 1] === 0x5a;
}

/** A record whose time is parsed when asked for: most readers (no --since, no -t) never ask. */
class Record implements LogRecord {
  readonly stream: 'stdout' | 'stderr';
  readonly partial: boolean;
  readonly bytes: Buffer;
  private readonly line: Buffer;
  private readonly timeEnd: number;
  private parsed: bigint | undefined;

  constructor(line: Buffer, timeEnd: number, stream: 'stdout' | 'stderr', partial: boolean) {
    this.line = line;
    this.timeEnd = timeEnd;
    this.stream = stream;
    this.partial = partial;
    this.bytes = line.subarray(timeEnd + 10);
  }

  get time(): bigint {
    // A time of the right shape with a non-digit in it (a corrupted file) reads as 0: the epoch.
    this.parsed ??= recordTime(this.line.toString('latin1', 0, this.timeEnd)) ?? 0n;
    return this.parsed;
  }
}

/** One line of the file without its newline; undefined when it is not a record (say, cut by a crash). */
export function parseRecord(line: Buffer): LogRecord | undefined {
  // `<time> <stdout|stderr> <F|P> <content>`: the time is 20 to 30 bytes.
  const space = line.indexOf(0x20);
  if (space < 20 || space > 30 || line.length < space + 10 || !timeShaped(line, space)) return undefined;
  const tag = line.subarray(space, space + 8);
  const stream = tag.equals(STDOUT) ? 'stdout' : tag.equals(STDERR) ? 'stderr' : undefined;
  const flag = line[space + 8];
  if (stream === undefined || (flag !== 0x46 && flag !== 0x50) || line[space + 9] !== 0x20) return undefined;
  return new Record(line, space, stream, flag === 0x50);
}

/** The log's files, oldest first. */
export function logFiles(path: string, maxFiles: number): string[] {
  const files: string[] = [];
  for (let i = maxFiles - 1; i >= 1; i--) files.push(`${path}.${i}`);
  files.push(path);
  return files;
}

/** The file's bytes from offset on; undefined when it does not exist. */
function readFrom(path: string, offset = 0): Buffer | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw err;
  }
  try {
    const size = Math.max(0, fstatSync(fd).size - offset);
    const buf = Buffer.alloc(size);
    let off = 0;
    while (off < size) {
      const n = readSync(fd, buf, off, size - off, offset + off);
      if (n === 0) break;
      off += n;
    }
    return buf.subarray(0, off);
  } finally {
    closeSync(fd);
  }
}

function* records(buf: Buffer): Generator<LogRecord> {
  let start = 0;
  for (let nl = buf.indexOf(10, start); nl >= 0; nl = buf.indexOf(10, start)) {
    const r = parseRecord(buf.subarray(start, nl));
    start = nl + 1;
    if (r) yield r;
  }
}

export interface ReadOptions {
  maxFiles: number;
  /** Only records at or after this time (ns since the epoch). */
  since?: bigint;
  /** Only records before this time. */
  until?: bigint;
  /** Only the last N lines (a line: records up to and including the first F). */
  tail?: number;
  /** Keep reading as the log grows, until done() says the writer finished (then what is left is read). */
  follow?: { done: () => boolean; signal?: AbortSignal; pollMs?: number };
}

function wanted(r: LogRecord, o: ReadOptions): boolean {
  return (o.since === undefined || r.time >= o.since) && (o.until === undefined || r.time < o.until);
}

/** The records of the log, oldest first, filtered by since/until/tail, then (follow) the new ones. */
export async function* readLog(path: string, o: ReadOptions): AsyncGenerator<LogRecord> {
  for await (const batch of readLogBatches(path, o)) yield* batch;
}

/**
 * readLog's records as they are read: the whole log first (one batch),
 * then, following, what each look at the file found. A reader that
 * batches its own output hands it on at the end of each.
 */
export async function* readLogBatches(path: string, o: ReadOptions): AsyncGenerator<LogRecord[]> {
  let all: LogRecord[] = [];
  for (const file of logFiles(path, o.maxFiles)) {
    const buf = readFrom(file);
    if (buf) for (const r of records(buf)) if (wanted(r, o)) all.push(r);
  }
  if (o.tail !== undefined) all = tailLines(all, o.tail);
  if (all.length > 0) yield all;
  if (!o.follow) return;
  // Following: the current file from where the first read ended. At a rotation (another inode) the
  // rest of the old file, now PATH.1, is read first, then the new one from its start.
  let ino = statOrUndefined(path)?.ino;
  let offset = readFrom(path)?.length ?? 0;
  let rest: Buffer = Buffer.alloc(0);
  const take = (fresh: Buffer | undefined, into: LogRecord[]): void => {
    if (!fresh || fresh.length === 0) return;
    offset += fresh.length;
    const chunk = rest.length ? Buffer.concat([rest, fresh]) : fresh;
    const last = chunk.lastIndexOf(10);
    rest = chunk.subarray(last + 1);
    for (const r of records(chunk.subarray(0, last + 1))) if (wanted(r, o)) into.push(r);
  };
  for (;;) {
    const finished = o.follow.done();
    const st = statOrUndefined(path);
    const found: LogRecord[] = [];
    if (st && st.ino !== ino) {
      if (statOrUndefined(`${path}.1`)?.ino === ino) take(readFrom(`${path}.1`, offset), found);
      ino = st.ino;
      offset = 0;
      rest = Buffer.alloc(0);
    }
    take(readFrom(path, offset), found);
    if (found.length > 0) yield found;
    if (finished || o.follow.signal?.aborted) return;
    await delay(o.follow.pollMs ?? 100, undefined, o.follow.signal ? { signal: o.follow.signal } : undefined).catch(() => undefined);
  }
}

function statOrUndefined(path: string): { ino: number } | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

function tailLines(all: LogRecord[], n: number): LogRecord[] {
  if (n <= 0) return [];
  let lines = 0;
  for (let i = all.length - 1; i >= 0; i--) {
    // A line starts after the previous record of its stream ended one (kept simple: after any F).
    if (i === 0 || !all[i - 1]!.partial) {
      if (++lines === n) return all.slice(i);
    }
  }
  return all;
}
