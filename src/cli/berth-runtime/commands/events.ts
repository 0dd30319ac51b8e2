import { invalidArgument } from '../../../errors.ts';
import { encodeEvent, type RuntimeEvent, statsEvent, watchEvents } from '../../../runtime/lifecycle/events.ts';
import { defineCommand } from '../context.ts';

const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, 'μs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A Go duration ("5s", "1m30s", "250ms", "1.5h"), as runc's --interval takes it, in milliseconds. */
export function parseGoDuration(text: string): number {
  const bad = (): never => {
    throw invalidArgument('invalid_flag', `events: --interval: "${text}" is not a duration (like 5s, 250ms or 1m30s)`);
  };
  let rest = text;
  let sign = 1;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    sign = rest.startsWith('-') ? -1 : 1;
    rest = rest.slice(1);
  }
  if (rest === '0') return 0;
  if (rest === '') bad();
  let total = 0;
  while (rest !== '') {
    const m = /^(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)/.exec(rest);
    if (m === null) return bad();
    total += Number(m[1]) * (UNIT_MS[m[2] ?? ''] ?? 0);
    rest = rest.slice(m[0].length);
  }
  return sign * total;
}

export default defineCommand({
  args: ['ID'],
  description: 'The container\'s resource usage every interval and its OOM kills, as JSON lines (runc\'s events).',
  flags: [
    { name: 'interval', type: 'string', value: 'DURATION', help: 'time between stats events (default 5s)' },
    { name: 'stats', type: 'bool', help: 'print the stats once, then exit' },
  ],
  async run(ctx, input) {
    const [id = ''] = input.args;
    const intervalMs = parseGoDuration(input.str('interval') ?? '5s');
    if (intervalMs <= 0) throw invalidArgument('invalid_flag', 'events: duration interval must be greater than 0');
    const line = (event: RuntimeEvent): void => ctx.out(`${encodeEvent(event)}\n`);
    if (input.bool('stats')) {
      line(await statsEvent(ctx.runtime, id));
      return 0;
    }
    // A reader that goes away (EPIPE) ends the stream instead of the process.
    const reader = new AbortController();
    const gone = (): void => reader.abort();
    process.stdout.once('error', gone);
    try {
      await watchEvents(ctx.runtime, id, { intervalMs: Math.max(1, intervalMs), onEvent: line, signal: reader.signal });
    } finally {
      process.stdout.off('error', gone);
    }
    return 0;
  },
});
