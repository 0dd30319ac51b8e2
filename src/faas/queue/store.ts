/**
 * Async calls in the engine's database (engine_fn_calls and
 * engine_fn_call_attempts, src/engine/store/db.ts). The connection runs
 * with synchronous = FULL, so `accept` returns once the call is on disk
 * (the WAL fsync'd): only then does the caller get its 202.
 *
 * A call is `queued` (waiting, not before next_at), `running` (one try
 * under way) or `dead` (its tries are spent, kept until replayed or
 * deleted). A call done is deleted with its attempts: the table holds
 * only what is still owed, and at most `maxDead` dead letters.
 */
import type { DatabaseSync } from 'node:sqlite';
import { alreadyExists, failedPrecondition, notFound } from '../../errors.ts';
import { inTransaction, isUniqueViolation } from '../../sqlite.ts';
import { parseStoredJson, storedInt, storedOptionalInt, storedOptionalString, storedString } from '../../sqlite-row.ts';
import { internal } from '../../errors.ts';

export type CallState = 'queued' | 'running' | 'dead';

/** What is needed to make the call again: the request as it came. */
export interface CallRequest {
  id: string;
  namespace: string;
  function: string;
  method: string;
  /** After the function's name: "" or "/...". */
  path: string;
  /** With its "?", or "". */
  query: string;
  /** As received, in order (hop-by-hop headers already left out). */
  headers: [string, string][];
  body: Buffer;
  callbackUrl?: string;
}

export interface CallSummary {
  id: string;
  function: string;
  namespace: string;
  state: CallState;
  attempts: number;
  acceptedAt: string;
  /** When the next try may start (ISO), for a queued call. */
  nextAt: string;
  lastStatus?: number;
  lastError?: string;
  deadAt?: string;
  callbackUrl?: string;
  bodyBytes: number;
}

export interface Attempt {
  n: number;
  startedAt: string;
  seconds?: number;
  status?: number;
  error?: string;
}

export interface CallRecord extends CallRequest {
  seq: number;
  state: CallState;
  attempts: number;
}

const SUMMARY = 'seq, id, namespace, function, state, attempts, next_at, accepted_at, last_status, last_error, dead_at, callback_url, length(body) AS body_bytes';

function summary(r: Record<string, unknown>): CallSummary {
  const what = `async call ${String(r['id'])}`;
  const lastStatus = storedOptionalInt(r['last_status'], `${what} last_status`);
  const lastError = storedOptionalString(r['last_error'], `${what} last_error`);
  const deadAt = storedOptionalString(r['dead_at'], `${what} dead_at`);
  const callbackUrl = storedOptionalString(r['callback_url'], `${what} callback_url`);
  return {
    id: storedString(r['id'], `${what} id`),
    function: storedString(r['function'], `${what} function`),
    namespace: storedString(r['namespace'], `${what} namespace`),
    state: storedString(r['state'], `${what} state`) as CallState,
    attempts: storedInt(r['attempts'], `${what} attempts`),
    acceptedAt: storedString(r['accepted_at'], `${what} accepted_at`),
    nextAt: new Date(storedInt(r['next_at'], `${what} next_at`)).toISOString(),
    ...(lastStatus === null ? {} : { lastStatus }),
    ...(lastError === null ? {} : { lastError }),
    ...(deadAt === null ? {} : { deadAt }),
    ...(callbackUrl === null ? {} : { callbackUrl }),
    bodyBytes: storedInt(r['body_bytes'], `${what} body`),
  };
}

function headerPairs(text: unknown, what: string): [string, string][] {
  const v = parseStoredJson(text, what);
  if (!Array.isArray(v) || !v.every((p): p is [string, string] => Array.isArray(p) && p.length === 2 && typeof p[0] === 'string' && typeof p[1] === 'string')) {
    throw internal('engine_record_corrupt', `${what}: not a list of [name, value] pairs`);
  }
  return v;
}

export interface CallFilter {
  function?: string;
  state?: CallState;
  limit?: number;
}

export class CallStore {
  readonly db: DatabaseSync;

  constructor(db: DatabaseSync) {
    this.db = db;
  }

  /** A new queued call, durable when this returns; refused when its id is still owed. */
  accept(c: CallRequest, now = Date.now()): void {
    try {
      this.db
        .prepare(
          `INSERT INTO engine_fn_calls (id, namespace, function, method, path, query, headers, body, callback_url, state, next_at, accepted_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?)`,
        )
        .run(c.id, c.namespace, c.function, c.method, c.path, c.query, JSON.stringify(c.headers), c.body, c.callbackUrl ?? null, now, new Date(now).toISOString());
    } catch (err) {
      if (isUniqueViolation(err)) throw alreadyExists('faas_async_call_exists', `async call "${c.id}": already queued (X-Call-Id is taken until that call is done)`);
      throw err;
    }
  }

  /** Calls not yet done (queued, running) or dead. */
  count(state: CallState): number {
    return Number(this.db.prepare('SELECT count(*) AS n FROM engine_fn_calls WHERE state = ?').get(state)?.['n'] ?? 0);
  }

  /** Calls by function and state, for the metrics. */
  countsByFunction(): { function: string; state: CallState; n: number }[] {
    return this.db
      .prepare('SELECT function, state, count(*) AS n FROM engine_fn_calls GROUP BY function, state')
      .all()
      .map((r) => ({ function: String(r['function']), state: String(r['state']) as CallState, n: Number(r['n']) }));
  }

  list(f: CallFilter = {}): CallSummary[] {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (f.function !== undefined) {
      where.push('function = ?');
      args.push(f.function);
    }
    if (f.state !== undefined) {
      where.push('state = ?');
      args.push(f.state);
    }
    const sql = `SELECT ${SUMMARY} FROM engine_fn_calls ${where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`} ORDER BY seq LIMIT ?`;
    return this.db.prepare(sql).all(...args, f.limit ?? 1000).map(summary);
  }

  get(id: string): CallSummary | undefined {
    const r = this.db.prepare(`SELECT ${SUMMARY} FROM engine_fn_calls WHERE id = ?`).get(id);
    return r === undefined ? undefined : summary(r);
  }

  mustGet(id: string): CallSummary {
    const c = this.get(id);
    if (c === undefined) throw notFound('faas_async_call_not_found', `async call "${id}": not found (done calls are not kept)`);
    return c;
  }

  attempts(id: string): Attempt[] {
    return this.db
      .prepare('SELECT a.n, a.started_at, a.seconds, a.status, a.error FROM engine_fn_call_attempts a JOIN engine_fn_calls c ON c.seq = a.call_seq WHERE c.id = ? ORDER BY a.n')
      .all(id)
      .map((r, i) => {
        const seconds = r['seconds'];
        const status = storedOptionalInt(r['status'], `async call ${id} attempt status`);
        const error = storedOptionalString(r['error'], `async call ${id} attempt error`);
        return {
          n: i + 1,
          startedAt: storedString(r['started_at'], `async call ${id} attempt started_at`),
          ...(typeof seconds === 'number' ? { seconds } : {}),
          ...(status === null ? {} : { status }),
          ...(error === null ? {} : { error }),
        };
      });
  }

  /**
   * The oldest queued call that may run now, of a function not in `busy`
   * (each NAMESPACE/NAME: busyKey), made `running` with an attempt row
   * started; undefined when none.
   */
  claim(busy: readonly string[], now = Date.now()): { call: CallRecord; attempt: number } | undefined {
    return inTransaction(this.db, () => {
      const r = this.db
        .prepare(
          `SELECT seq, id, namespace, function, method, path, query, headers, body, callback_url, attempts FROM engine_fn_calls
           WHERE state = 'queued' AND next_at <= ? AND namespace || '/' || function NOT IN (SELECT value FROM json_each(?))
           ORDER BY seq LIMIT 1`,
        )
        .get(now, JSON.stringify(busy));
      if (r === undefined) return undefined;
      const seq = storedInt(r['seq'], 'async call seq');
      const id = storedString(r['id'], 'async call id');
      this.db.prepare("UPDATE engine_fn_calls SET state = 'running' WHERE seq = ?").run(seq);
      const attempt = Number(this.db.prepare('INSERT INTO engine_fn_call_attempts (call_seq, started_at) VALUES (?, ?)').run(seq, new Date(now).toISOString()).lastInsertRowid);
      const body = r['body'];
      const callbackUrl = storedOptionalString(r['callback_url'], `async call ${id} callback_url`);
      const call: CallRecord = {
        seq,
        id,
        namespace: storedString(r['namespace'], `async call ${id} namespace`),
        function: storedString(r['function'], `async call ${id} function`),
        method: storedString(r['method'], `async call ${id} method`),
        path: storedString(r['path'], `async call ${id} path`),
        query: storedString(r['query'], `async call ${id} query`),
        headers: headerPairs(r['headers'], `async call ${id} headers`),
        body: body instanceof Uint8Array ? Buffer.from(body) : Buffer.alloc(0),
        ...(callbackUrl === null ? {} : { callbackUrl }),
        state: 'running',
        attempts: storedInt(r['attempts'], `async call ${id} attempts`),
      };
      return { call, attempt };
    });
  }

  /** The earliest time a queued call may run (ms), for the worker's timer. */
  nextDue(): number | undefined {
    const r = this.db.prepare("SELECT min(next_at) AS t FROM engine_fn_calls WHERE state = 'queued'").get();
    return r === undefined || r['t'] === null ? undefined : Number(r['t']);
  }

  private finishAttempt(attempt: number, outcome: { seconds: number; status?: number; error?: string }): void {
    this.db.prepare('UPDATE engine_fn_call_attempts SET seconds = ?, status = ?, error = ? WHERE n = ?').run(outcome.seconds, outcome.status ?? null, outcome.error ?? null, attempt);
  }

  /** The call is done: it and its attempts are gone. */
  done(seq: number): void {
    this.db.prepare('DELETE FROM engine_fn_calls WHERE seq = ?').run(seq);
  }

  /** A try failed and another is due at `nextAt`. */
  retry(seq: number, attempt: number, outcome: { seconds: number; status?: number; error?: string }, nextAt: number): void {
    inTransaction(this.db, () => {
      this.finishAttempt(attempt, outcome);
      this.db
        .prepare("UPDATE engine_fn_calls SET state = 'queued', attempts = attempts + 1, next_at = ?, last_status = ?, last_error = ? WHERE seq = ?")
        .run(nextAt, outcome.status ?? null, outcome.error ?? null, seq);
    });
  }

  /** A try finished (the call is answered): recorded before the callback, so an inspect meanwhile shows it. */
  answered(seq: number, attempt: number, outcome: { seconds: number; status?: number; error?: string }): void {
    inTransaction(this.db, () => {
      this.finishAttempt(attempt, outcome);
      this.db.prepare('UPDATE engine_fn_calls SET attempts = attempts + 1, last_status = ?, last_error = ? WHERE seq = ?').run(outcome.status ?? null, outcome.error ?? null, seq);
    });
  }

  /** Its tries are spent (or its callback failed): a dead letter; the oldest past `maxDead` are dropped, returned for the log. */
  dead(seq: number, lastError: string | undefined, maxDead: number, now = Date.now()): string[] {
    return inTransaction(this.db, () => {
      this.db.prepare("UPDATE engine_fn_calls SET state = 'dead', dead_at = ?, last_error = coalesce(?, last_error) WHERE seq = ?").run(new Date(now).toISOString(), lastError ?? null, seq);
      const over = this.db.prepare("SELECT seq, id FROM engine_fn_calls WHERE state = 'dead' ORDER BY seq DESC LIMIT -1 OFFSET ?").all(maxDead);
      for (const r of over) this.db.prepare('DELETE FROM engine_fn_calls WHERE seq = ?').run(Number(r['seq']));
      return over.map((r) => String(r['id']));
    });
  }

  /** Back to the queue a try that was stopped (berthd stopping): it does not count. */
  interrupted(seq: number, attempt: number, seconds: number, now = Date.now()): void {
    inTransaction(this.db, () => {
      this.finishAttempt(attempt, { seconds, error: 'interrupted: berthd stopped during the try' });
      this.db.prepare("UPDATE engine_fn_calls SET state = 'queued', next_at = ? WHERE seq = ? AND state = 'running'").run(now, seq);
    });
  }

  /**
   * At start: the calls a stopped or killed berthd was trying go back to
   * the queue (delivered at least once), their unfinished tries marked.
   */
  recover(now = Date.now()): number {
    return inTransaction(this.db, () => {
      this.db
        .prepare("UPDATE engine_fn_call_attempts SET error = 'interrupted: berthd stopped during the try' WHERE status IS NULL AND error IS NULL AND call_seq IN (SELECT seq FROM engine_fn_calls WHERE state = 'running')")
        .run();
      return Number(this.db.prepare("UPDATE engine_fn_calls SET state = 'queued', next_at = min(next_at, ?) WHERE state = 'running'").run(now).changes);
    });
  }

  /** A dead call back in the queue with a fresh count of tries; its attempts so far are kept. */
  replay(id: string, now = Date.now()): void {
    const c = this.mustGet(id);
    if (c.state !== 'dead') throw failedPrecondition('faas_async_call_busy', `async call "${id}": is ${c.state}, only a dead call can be replayed`);
    this.db.prepare("UPDATE engine_fn_calls SET state = 'queued', attempts = 0, next_at = ?, dead_at = NULL WHERE id = ? AND state = 'dead'").run(now, id);
  }

  /** Every dead call of a function back in the queue; how many. */
  replayFunction(fn: string, now = Date.now()): number {
    return Number(this.db.prepare("UPDATE engine_fn_calls SET state = 'queued', attempts = 0, next_at = ?, dead_at = NULL WHERE function = ? AND state = 'dead'").run(now, fn).changes);
  }

  /** A queued or dead call removed (one running cannot be: its try is under way). */
  remove(id: string): void {
    const c = this.mustGet(id);
    if (c.state === 'running') throw failedPrecondition('faas_async_call_busy', `async call "${id}": is running, delete it once its try has finished`);
    this.db.prepare("DELETE FROM engine_fn_calls WHERE id = ? AND state <> 'running'").run(id);
  }
}

/** A function as claim's `busy` names it: NAMESPACE/NAME ("/" is in neither), so same-named functions of two namespaces are two. */
export function busyKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}
