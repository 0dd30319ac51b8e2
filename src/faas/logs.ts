/**
 * A function's logs (`/system/logs`): the lines its replicas wrote, read
 * from the logs the engine's monitors keep (ROOT/containers/ID/ctr.log,
 * src/engine/monitor/log-reader.ts), as faas-provider's logs.Message, one
 * JSON object a line: `{name, namespace, instance, timestamp, text}`.
 *
 * Past replicas count too: when the gateway removes a replica (scaled
 * down, to zero, replaced, updated) its log is first moved to
 * ROOT/faas/logs/NAMESPACE/FUNCTION/REPLICA.log (a rename, same file
 * system), and the last MAX_PAST of them are kept per function; deleting
 * the function deletes them.
 *
 * Without follow the lines of every replica are merged in time order and
 * the last `tail` returned. With follow the answer then goes on with the
 * lines written after the request came (split at that instant by the
 * records' own timestamps, so none is lost or sent twice), from the
 * replicas running then and those started later (the engine's start
 * events), until the client goes away. Each follow is counted while it
 * lasts (`gateway_log_follows`), so a leak shows.
 */
import { mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { DEFAULT_LOG_LIMITS, type Engine } from '../engine/engine.ts';
import { logPath } from '../engine/paths.ts';
import { logFiles, readLog, type LogRecord } from '../engine/monitor/log-reader.ts';
import type { ContainerRecord } from '../engine/store/containers.ts';
import { errnoCode, invalidArgument } from '../errors.ts';
import { DEFAULT_NAMESPACE, LABEL_FUNCTION } from './deployment.ts';
import type { FaasLogger } from './log.ts';
import { LABEL_NAMESPACE } from './replica-options.ts';

/** Past replicas whose logs are kept, per function. */
export const MAX_PAST = 10;
/** Lines a follow holds for a slow client before its readers wait. */
const MAX_QUEUED = 1024;

export interface LogQuery {
  name: string;
  namespace: string;
  instance?: string;
  /** Nanoseconds since the epoch. */
  since?: bigint;
  /** The last N lines; none (or <= 0) means all. */
  tail?: number;
  follow: boolean;
}

/** faas-provider's logs.Message. */
export interface LogMessage {
  name: string;
  namespace: string;
  instance: string;
  timestamp: string;
  text: string;
}

function badParam(name: string, why: string): never {
  throw invalidArgument('faas_logs_invalid', `logs request: ${name}: ${why}`);
}

const RFC3339 = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/i;

/** RFC 3339 (as Go's time.RFC3339 reads it: any fraction, Z or an offset) in nanoseconds since the epoch. */
export function parseRfc3339(raw: string): bigint | undefined {
  const m = RFC3339.exec(raw);
  if (m === null) return undefined;
  const ms = Date.parse(`${m[1]}${m[3]!.toUpperCase()}`);
  if (Number.isNaN(ms)) return undefined;
  return BigInt(ms) * 1_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'));
}

/** Go's strconv.ParseBool, as faas-provider reads `follow`. */
function parseBool(name: string, raw: string): boolean {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(raw)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(raw)) return false;
  badParam(name, `${JSON.stringify(raw)} is not true or false`);
}

/** The query of `/system/logs`, each refusal naming the parameter; the function's name and namespace are checked by the caller. */
export function parseLogQuery(q: URLSearchParams, checkName: (v: unknown) => string, checkNamespace: (v: unknown) => string): LogQuery {
  const name = checkName(q.get('name') ?? undefined);
  const namespace = checkNamespace(q.get('namespace') ?? undefined);
  const out: LogQuery = { name, namespace, follow: false };
  const instance = q.get('instance');
  if (instance !== null && instance !== '') out.instance = instance;
  const follow = q.get('follow');
  if (follow !== null && follow !== '') out.follow = parseBool('follow', follow);
  const since = q.get('since');
  if (since !== null && since !== '') {
    const ns = parseRfc3339(since);
    if (ns === undefined) badParam('since', `${JSON.stringify(since)} is not an RFC 3339 time (like 2006-01-02T15:04:05Z)`);
    out.since = ns;
  }
  const tail = q.get('tail');
  if (tail !== null && tail !== '') {
    if (!/^-?\d{1,9}$/.test(tail)) badParam('tail', `${JSON.stringify(tail)} is not a number of lines`);
    const n = Number(tail);
    if (n > 0) out.tail = n;
  }
  return out;
}

/** Go's RFC3339Nano, as time.Time marshals: no fraction when it is zero, trailing zeros dropped. */
export function rfc3339Nano(ns: bigint): string {
  const iso = new Date(Number(ns / 1_000_000n)).toISOString();
  const frac = (ns % 1_000_000_000n).toString().padStart(9, '0').replace(/0+$/, '');
  return `${iso.slice(0, 19)}${frac === '' ? '' : `.${frac}`}Z`;
}

interface Line {
  time: bigint;
  instance: string;
  text: string;
}

/** Joins a source's records into lines: a P record's line goes on in the next record of its stream. */
class LineJoiner {
  private readonly pending = new Map<string, { time: bigint; parts: Buffer[] }>();
  private readonly instance: string;

  constructor(instance: string) {
    this.instance = instance;
  }

  push(r: LogRecord): Line | undefined {
    const p = this.pending.get(r.stream) ?? { time: r.time, parts: [] };
    p.parts.push(r.bytes);
    if (r.partial) {
      this.pending.set(r.stream, p);
      return undefined;
    }
    this.pending.delete(r.stream);
    return { time: p.time, instance: this.instance, text: Buffer.concat(p.parts).toString('utf8') };
  }
}

interface Source {
  instance: string;
  path: string;
  /** Whether its writer may still add to it (a replica running). */
  live: () => boolean;
}

export interface FunctionLogsOptions {
  engine: Engine;
  root: string;
  logger: FaasLogger;
  /** How often a followed log is polled for new lines (default 100 ms). */
  pollMs?: number;
}

export class FunctionLogs {
  private readonly o: FunctionLogsOptions;
  private follows = 0;

  constructor(o: FunctionLogsOptions) {
    this.o = o;
  }

  /** Follows in progress (a gauge: it must come back to 0 when clients go). */
  get following(): number {
    return this.follows;
  }

  private dir(namespace: string, fn: string): string {
    return join(this.o.root, 'faas', 'logs', namespace, fn);
  }

  private static isReplicaOf(r: ContainerRecord, namespace: string, fn: string): boolean {
    return r.labels[LABEL_FUNCTION] === fn && (r.labels[LABEL_NAMESPACE] ?? DEFAULT_NAMESPACE) === namespace;
  }

  private liveSource(r: ContainerRecord): Source {
    const containers = this.o.engine.containers;
    return {
      instance: r.name,
      path: logPath(this.o.engine.paths, r.id),
      live: () => {
        const now = containers.get(r.id);
        return now !== undefined && (now.state === 'running' || now.state === 'paused');
      },
    };
  }

  /** The replicas' logs now: those kept of past replicas, then the current ones'. */
  private sources(namespace: string, fn: string): Source[] {
    const out: Source[] = [];
    const dir = this.dir(namespace, fn);
    for (const f of listOrEmpty(dir)) if (f.endsWith('.log')) out.push({ instance: basename(f, '.log'), path: join(dir, f), live: () => false });
    for (const r of this.o.engine.containers.list()) if (FunctionLogs.isReplicaOf(r, namespace, fn)) out.push(this.liveSource(r));
    return out;
  }

  /** Before a replica's container is removed: its log is kept with its function's (when the function still exists). */
  keep(id: string, exists: (namespace: string, fn: string) => boolean): void {
    const r = this.o.engine.containers.get(id);
    const fn = r?.labels[LABEL_FUNCTION];
    // A replica never started (prepared, maybe primed: its monitor opened an empty log) logged nothing worth a place among the last ones.
    if (r === undefined || fn === undefined || r.state === 'created') return;
    const namespace = r.labels[LABEL_NAMESPACE] ?? DEFAULT_NAMESPACE;
    if (!exists(namespace, fn)) return;
    const dir = this.dir(namespace, fn);
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const from = logFiles(logPath(this.o.engine.paths, id), DEFAULT_LOG_LIMITS.maxFiles);
      const to = logFiles(join(dir, `${r.name}.log`), DEFAULT_LOG_LIMITS.maxFiles);
      from.forEach((f, i) => renameIfThere(f, to[i]!));
      this.prune(dir);
    } catch (err) {
      this.o.logger.warn('function replica log not kept', { function: fn, namespace, replica: r.name, err });
    }
  }

  /** A deleted function's kept logs go with it. */
  forget(namespace: string, fn: string): void {
    rmSync(this.dir(namespace, fn), { recursive: true, force: true });
  }

  private prune(dir: string): void {
    const past = listOrEmpty(dir)
      .filter((f) => f.endsWith('.log'))
      .map((f) => ({ f, mtime: statSync(join(dir, f)).mtimeMs }))
      .sort((a, b) => b.mtime - a.mtime);
    for (const { f } of past.slice(MAX_PAST)) {
      for (const file of logFiles(join(dir, f), DEFAULT_LOG_LIMITS.maxFiles)) rmSync(file, { force: true });
    }
  }

  /** The messages a query asks for, as they become known (follow: until `signal` aborts). */
  async *read(q: LogQuery, signal: AbortSignal): AsyncGenerator<LogMessage> {
    const message = (l: Line): LogMessage => ({ name: q.name, namespace: q.namespace, instance: l.instance, timestamp: rfc3339Nano(l.time), text: l.text });
    const wanted = (s: Source): boolean => q.instance === undefined || s.instance === q.instance;
    // The instant that splits what was written (read now) from what is followed: records carry their time.
    const cut = BigInt(Date.now()) * 1_000_000n;
    const sources = this.sources(q.namespace, q.name).filter(wanted);
    const lines: Line[] = [];
    for (const s of sources) {
      const join = new LineJoiner(s.instance);
      const o = { maxFiles: DEFAULT_LOG_LIMITS.maxFiles, ...(q.since === undefined ? {} : { since: q.since }), ...(q.follow ? { until: cut } : {}) };
      for await (const r of readLog(s.path, o)) {
        const l = join.push(r);
        if (l !== undefined) lines.push(l);
      }
    }
    lines.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0));
    for (const l of q.tail === undefined ? lines : lines.slice(-q.tail)) yield message(l);
    if (!q.follow || signal.aborted) return;
    yield* this.follow(q, q.since !== undefined && q.since > cut ? q.since : cut, signal, message, wanted);
  }

  private async *follow(q: LogQuery, since: bigint, signal: AbortSignal, message: (l: Line) => LogMessage, wanted: (s: Source) => boolean): AsyncGenerator<LogMessage> {
    const queue: Line[] = [];
    let wake: (() => void) | undefined;
    const notify = (): void => {
      const w = wake;
      wake = undefined;
      w?.();
    };
    const stop = new AbortController();
    const onAbort = (): void => {
      stop.abort();
      notify();
    };
    signal.addEventListener('abort', onAbort);
    const seen = new Set<string>();
    const readers: Promise<void>[] = [];
    const add = (s: Source): void => {
      if (seen.has(s.instance) || !wanted(s)) return;
      seen.add(s.instance);
      readers.push(this.followOne(s, since, stop.signal, queue, notify));
    };
    const unsubscribe = this.o.engine.events.subscribe((e) => {
      if (e.Type !== 'container' || e.Action !== 'start') return;
      const r = this.o.engine.containers.get(e.Actor.ID);
      if (r !== undefined && FunctionLogs.isReplicaOf(r, q.namespace, q.name)) add(this.liveSource(r));
    });
    this.follows++;
    try {
      // Listed after subscribing: a replica that started in between is in one or the other (or both: added once).
      for (const s of this.sources(q.namespace, q.name)) if (s.live()) add(s);
      while (!stop.signal.aborted) {
        const l = queue.shift();
        if (l !== undefined) {
          yield message(l);
          continue;
        }
        await new Promise<void>((resolve) => (wake = resolve));
      }
    } finally {
      this.follows--;
      unsubscribe();
      signal.removeEventListener('abort', onAbort);
      stop.abort();
      notify();
      await Promise.allSettled(readers);
    }
  }

  /** One replica's new lines into the queue, until it stops (then what is left is read) or the follow ends. */
  private async followOne(s: Source, since: bigint, signal: AbortSignal, queue: Line[], notify: () => void): Promise<void> {
    const join = new LineJoiner(s.instance);
    try {
      for await (const r of readLog(s.path, { maxFiles: DEFAULT_LOG_LIMITS.maxFiles, since, follow: { done: () => !s.live(), signal, pollMs: this.o.pollMs ?? 100 } })) {
        const l = join.push(r);
        if (l === undefined) continue;
        queue.push(l);
        notify();
        // A slow client: the reader waits rather than holding every line in memory.
        while (queue.length > MAX_QUEUED && !signal.aborted) await new Promise((resolve) => setTimeout(resolve, 50));
        if (signal.aborted) return;
      }
    } catch (err) {
      this.o.logger.debug('function log not followed', { replica: s.instance, err });
    }
  }
}

function listOrEmpty(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return [];
    throw err;
  }
}

function renameIfThere(from: string, to: string): void {
  try {
    renameSync(from, to);
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw err;
  }
}
