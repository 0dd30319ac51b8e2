/**
 * `berth fn logs NAME`: `GET /system/logs?name=NAME&follow=...&since=...&tail=...`
 * (OpenFaaS's LogEntry lines, ndjson), printed as faas-cli prints them:
 * `TIMESTAMP TEXT` (plain), `timestamp="..." text="..."` (keyvalue) or the
 * entries as they came (json); --name and --instance add those. As with
 * faas-cli, --follow is on unless `--follow=false`; --since takes a
 * duration (5m) or a time (RFC 3339), --since-time a time.
 */
import { internal, invalidArgument } from '../../../../errors.ts';
import { defineCommand } from '../../context.ts';
import { parseSince } from '../../since.ts';
import { gatewayError } from './gateway.ts';
import { clientFor, GATEWAY_FLAG, loadStack, NAMESPACE_FLAG, STACK_FLAGS } from './options.ts';

export interface LogEntry {
  name?: string;
  namespace?: string;
  instance?: string;
  timestamp?: string;
  text?: string;
}

const rfc3339 = (iso: string): string => {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? iso : new Date(t).toISOString().replace(/\.\d+Z$/, 'Z');
};

export function formatLogEntry(e: LogEntry, format: string, o: { name: boolean; instance: boolean }): string {
  const text = (e.text ?? '').replace(/\n+$/, '');
  if (format === 'json') return JSON.stringify(e);
  if (format === 'keyvalue' || format === 'key-value') {
    return `timestamp="${rfc3339(e.timestamp ?? '')}" ${o.name ? `name="${e.name ?? ''}" ` : ''}${o.instance ? `instance="${e.instance ?? ''}" ` : ''}text="${text}" `;
  }
  return `${rfc3339(e.timestamp ?? '')} ${o.name ? `${e.name ?? ''} ` : ''}${o.instance ? `(${e.instance ?? ''}) ` : ''}${text}`;
}

export default defineCommand({
  args: ['NAME'],
  flags: [
    { name: 'follow', type: 'bool', help: 'Continue printing new logs (default true; --follow=false to stop at the end)' },
    { name: 'since', type: 'string', value: 'DURATION|TIME', help: 'Only logs newer than a relative duration like 5m, or a time (RFC 3339)' },
    { name: 'since-time', type: 'string', value: 'TIME', help: 'Only logs since the given time (RFC 3339)' },
    { name: 'tail', type: 'int', value: 'N', help: 'Number of recent log lines to show (default -1: all)' },
    { name: 'format', type: 'string', value: 'plain|keyvalue|json', help: 'Output format (default plain)' },
    { name: 'name', type: 'bool', help: 'Print the function name' },
    { name: 'instance', type: 'bool', help: 'Print the function instance (replica)' },
    GATEWAY_FLAG,
    NAMESPACE_FLAG,
    ...STACK_FLAGS,
  ],
  async run(ctx, input) {
    const [name = ''] = input.args;
    const format = input.str('format') ?? 'plain';
    if (!['plain', 'keyvalue', 'key-value', 'json'].includes(format)) throw invalidArgument('fn_flag_invalid', `--format ${JSON.stringify(format)}: one of plain, keyvalue, json`);
    const sinceText = input.str('since-time') ?? input.str('since');
    const since = sinceText === undefined ? undefined : rfc3339(new Date(Number(parseSince(sinceText, Date.now(), input.has('since-time') ? '--since-time' : '--since') / 1_000_000n)).toISOString());
    const tail = input.int('tail');
    const client = clientFor(ctx, input, loadStack(input));
    const query = {
      name,
      follow: String(input.maybeBool('follow') !== false),
      since,
      tail: tail === undefined ? undefined : String(tail),
      namespace: input.str('namespace'),
    };
    const r = await client.request('GET', '/system/logs', { query });
    if (r.status !== 200) throw gatewayError(r.status, await r.text(), `logs of function "${name}"`);
    if (r.body === null) return 0;
    const o = { name: input.bool('name'), instance: input.bool('instance') };
    const decoder = new TextDecoder();
    let rest = '';
    const emit = (line: string): void => {
      if (line.trim() === '') return;
      let e: unknown;
      try {
        e = JSON.parse(line);
      } catch {
        throw internal('fn_gateway_error', `logs of function "${name}": a line the gateway sent is not JSON: ${line.slice(0, 200)}`);
      }
      ctx.out(`${formatLogEntry(e as LogEntry, format, o)}\n`);
    };
    for await (const chunk of r.body as AsyncIterable<Uint8Array>) {
      rest += decoder.decode(chunk, { stream: true });
      const lines = rest.split('\n');
      rest = lines.pop() ?? '';
      lines.forEach(emit);
    }
    emit(rest + decoder.decode());
    return 0;
  },
});
