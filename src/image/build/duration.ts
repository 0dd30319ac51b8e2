/**
 * Go's duration syntax, which HEALTHCHECK and docker's --health-* flags
 * take, in its own module so that the engine reads it without loading the
 * build.
 */
import { invalidArgument } from '../../errors.ts';

/** Go durations as HEALTHCHECK takes them ("30s", "1m30s", "500ms"), in nanoseconds. */
export function parseDuration(text: string): number {
  const units: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
  if (text === '0') return 0;
  let total = 0;
  let rest = text;
  if (rest === '') throw invalidArgument('build_syntax', 'empty duration');
  while (rest !== '') {
    const m = /^(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/.exec(rest);
    if (m === null) throw invalidArgument('build_syntax', `invalid duration "${text}"`);
    total += Number(m[1]) * (units[m[2] ?? 's'] ?? 1);
    rest = rest.slice(m[0].length);
  }
  return Math.round(total);
}
