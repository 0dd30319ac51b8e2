/**
 * `berth fn queue`: the gateway's async calls (berth's /system/async-calls,
 * src/faas/queue/routes.ts), self-contained so that the `berth fn`
 * dispatcher wires it in with two calls:
 *
 *   const args = parseQueueArgs(argv);            // argv after "queue"
 *   const code = await runQueue(args, client, out);
 *
 * `parseQueueArgs(argv: readonly string[]): QueueArgs` reads
 *
 *   ls [FN] [--json]                   calls owed (queued, running), oldest first
 *   dead [FN] [--json]                 dead letters (tries spent, or callback failed)
 *   inspect ID                         one call with its tries, as JSON
 *   replay ID | --function FN          a dead letter (or all of FN's) queued again
 *   rm ID                              a queued or dead call deleted
 *
 * and throws a BerthError (invalid_argument) naming what is wrong.
 * `runQueue(args, client, out): Promise<number>` makes the request through
 * `client.request(method, path, body?)` (the caller's gateway client, with
 * its credentials: the routes are under basic auth), writes what it shows
 * through `out`, and returns the exit code; a refusal of the gateway is
 * thrown as a BerthError carrying the gateway's message.
 */
import { invalidArgument, notFound, unavailable, failedPrecondition } from '../../../../errors.ts';
// The shape /system/async-calls answers with (types only: nothing of the gateway runs in the CLI).
import type { CallSummary } from '../../../../faas/queue/store.ts';

export interface QueueGatewayClient {
  /** One request to the gateway (with its credentials); `body` is sent as JSON. */
  request(method: string, path: string, body?: unknown): Promise<{ status: number; text: string }>;
}

export type QueueArgs =
  | { verb: 'ls' | 'dead'; function?: string; json: boolean }
  | { verb: 'inspect' | 'rm'; id: string }
  | { verb: 'replay'; id: string }
  | { verb: 'replay'; function: string };

export const QUEUE_USAGE = `Usage: berth fn queue COMMAND

The gateway's async calls (/async-function/).

Commands:
  ls [FN] [--json]            calls waiting or running, oldest first
  dead [FN] [--json]          dead letters: calls whose tries are spent
  inspect ID                  one call and its tries (JSON)
  replay ID | --function FN   a dead letter, or all of a function's, queued again
  rm ID                       a queued or dead call deleted
`;

function usage(why: string): never {
  throw invalidArgument('faas_async_usage', `fn queue: ${why} (see 'berth fn queue --help')`);
}

const FN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function checkFn(raw: string): string {
  if (raw.length > 63 || !FN.test(raw)) usage(`"${raw}" is not a function name`);
  return raw;
}

export function parseQueueArgs(argv: readonly string[]): QueueArgs {
  const [verb, ...rest] = argv;
  const flags = rest.filter((a) => a.startsWith('-'));
  const words = rest.filter((a) => !a.startsWith('-'));
  switch (verb) {
    case 'ls':
    case 'dead': {
      for (const f of flags) if (f !== '--json') usage(`${verb}: unknown flag ${f}`);
      if (words.length > 1) usage(`${verb}: one function at most`);
      return { verb, json: flags.includes('--json'), ...(words[0] === undefined ? {} : { function: checkFn(words[0]) }) };
    }
    case 'inspect':
    case 'rm': {
      if (flags.length > 0) usage(`${verb}: unknown flag ${flags[0]}`);
      if (words.length !== 1) usage(`${verb}: one call ID`);
      return { verb, id: words[0]! };
    }
    case 'replay': {
      const i = rest.findIndex((a) => a === '--function' || a.startsWith('--function='));
      if (i >= 0) {
        const a = rest[i]!;
        const fn = a.includes('=') ? a.slice(a.indexOf('=') + 1) : rest[i + 1];
        const others = rest.filter((_, j) => j !== i && !(j === i + 1 && !a.includes('=')));
        if (fn === undefined || fn === '') usage('replay --function: a function name');
        if (others.length > 0) usage('replay: either a call ID or --function FN');
        return { verb, function: checkFn(fn) };
      }
      if (flags.length > 0) usage(`replay: unknown flag ${flags[0]}`);
      if (words.length !== 1) usage('replay: a call ID, or --function FN');
      return { verb, id: words[0]! };
    }
    case undefined:
      return usage('a command is needed (ls, dead, inspect, replay, rm)');
    default:
      return usage(`unknown command "${verb}"`);
  }
}

async function call(client: QueueGatewayClient, method: string, path: string, body?: unknown): Promise<string> {
  const r = await client.request(method, path, body);
  if (r.status >= 200 && r.status < 300) return r.text;
  const message = `gateway: ${method} ${path}: ${r.status} ${r.text.trim()}`;
  if (r.status === 404) throw notFound('faas_async_call_not_found', message);
  if (r.status === 400) throw invalidArgument('faas_async_usage', message);
  if (r.status === 409) throw failedPrecondition('faas_async_call_busy', message);
  throw unavailable('faas_async_request_failed', message);
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]! + 3))).join('').trimEnd() + '\n').join('');
}

const short = (s: string | undefined, n = 60): string => (s === undefined ? '' : s.length > n ? `${s.slice(0, n - 1)}…` : s);

function render(kind: 'ls' | 'dead', calls: CallSummary[]): string {
  if (kind === 'ls') {
    return table([['CALL ID', 'FUNCTION', 'STATE', 'TRIES', 'LAST', 'NEXT TRY', 'ACCEPTED'], ...calls.map((c) => [c.id, c.function, c.state, String(c.attempts), c.lastStatus === undefined ? short(c.lastError, 30) : String(c.lastStatus), c.state === 'queued' ? c.nextAt : '', c.acceptedAt])]);
  }
  return table([['CALL ID', 'FUNCTION', 'TRIES', 'LAST STATUS', 'DEAD SINCE', 'ERROR'], ...calls.map((c) => [c.id, c.function, String(c.attempts), c.lastStatus === undefined ? '' : String(c.lastStatus), c.deadAt ?? '', short(c.lastError)])]);
}

export async function runQueue(args: QueueArgs, client: QueueGatewayClient, out: (text: string) => void): Promise<number> {
  switch (args.verb) {
    case 'ls':
    case 'dead': {
      const q = new URLSearchParams();
      if (args.function !== undefined) q.set('function', args.function);
      if (args.verb === 'dead') q.set('state', 'dead');
      const calls = JSON.parse(await call(client, 'GET', `/system/async-calls${q.size === 0 ? '' : `?${q.toString()}`}`)) as CallSummary[];
      const shown = args.verb === 'ls' ? calls.filter((c) => c.state !== 'dead') : calls;
      out(args.json ? `${JSON.stringify(shown, null, 2)}\n` : render(args.verb, shown));
      return 0;
    }
    case 'inspect':
      out(`${JSON.stringify(JSON.parse(await call(client, 'GET', `/system/async-calls/${encodeURIComponent(args.id)}`)), null, 2)}\n`);
      return 0;
    case 'rm':
      await call(client, 'DELETE', `/system/async-calls/${encodeURIComponent(args.id)}`);
      out(`${args.id}\n`);
      return 0;
    case 'replay':
      if ('function' in args) {
        const r = JSON.parse(await call(client, 'POST', '/system/async-calls/replay', { function: args.function })) as { replayed: number };
        out(`${r.replayed} dead letter${r.replayed === 1 ? '' : 's'} of ${args.function} queued again\n`);
        return 0;
      }
      await call(client, 'POST', `/system/async-calls/${encodeURIComponent(args.id)}/replay`);
      out(`${args.id} queued again\n`);
      return 0;
  }
}
