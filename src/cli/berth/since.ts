/**
 * `--since` and `--until` as docker's CLI reads them (its timetypes
 * GetTimestamp): a Go duration back from now (`10m`, `1h30m`, truncated to
 * the second), RFC 3339 with or without a zone and at any precision
 * (`2026-12-06T23:59:01Z`, `2026-12-06T23:59:01.5+01:00`), shorter forms
 * (`2026-12-06`, `2026-12-06T23`, `2026-12-06T23:59`), or Unix seconds with
 * an optional fraction (`1765065541.5`). A time without a zone is in the
 * local zone as it is now (Go's FixedZone of the reference time). The result
 * is Unix nanoseconds, a bigint because they pass 2^53.
 */
import { parseDuration } from '../../image/build/duration.ts';
import { invalidArgument, type BerthError } from '../../errors.ts';

const NS = 1_000_000_000n;

function bad(flag: string, value: string, why: string): BerthError {
  return invalidArgument('invalid_flag', `${flag} ${JSON.stringify(value)}: ${why}`, { details: { flag, value } });
}

/** Go's time.ParseDuration, signed; undefined when the text is not one. */
function goDuration(value: string): number | undefined {
  const sign = value.startsWith('-') ? -1 : 1;
  const body = value.replace(/^[-+]/, '');
  if (!/^(\d*\.?\d+[a-zµμ]+)+$/.test(body)) return undefined;
  try {
    return sign * parseDuration(body.replace(/μ/g, 'µ').replace(/(^|[a-zµ])\./g, '$10.'));
  } catch {
    return undefined;
  }
}

const TIME = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2})(?::(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?)?(Z|[+-]\d{2}:\d{2})?$/;

/** A date-time in one of docker's layouts, or undefined when it is none of them. */
function dateTime(value: string, localOffsetMinutes: number): bigint | undefined {
  const m = TIME.exec(value);
  if (m === null) return undefined;
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac, zone] = m;
  // Docker's layout with a fraction is RFC 3339 in full: the seconds must be there.
  if (value.includes('.') && m[6] === undefined) return undefined;
  const parts = [Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)] as const;
  const ms = Date.UTC(...parts);
  const check = new Date(ms);
  if (check.getUTCMonth() !== parts[1] || check.getUTCDate() !== parts[2] || parts[3] > 23 || parts[4] > 59 || parts[5] > 59) return undefined;
  let offset = localOffsetMinutes;
  if (zone === 'Z') offset = 0;
  else if (zone !== undefined) offset = (zone.startsWith('-') ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6)));
  const seconds = BigInt(ms / 1000 - offset * 60);
  const nanos = frac === undefined ? 0n : BigInt(frac.padEnd(9, '0'));
  return seconds * NS + nanos;
}

/** Unix seconds, with an optional fraction as docker's parseTimestamp scales it. */
function unixSeconds(value: string): bigint | undefined {
  const m = /^(\d+)(?:\.(\d+))?$/.exec(value);
  if (m === null) return undefined;
  const [, sec = '0', frac] = m;
  const nanos = frac === undefined ? 0n : BigInt(Math.trunc(Number(frac) * 10 ** (9 - frac.length)));
  return BigInt(sec) * NS + nanos;
}

/**
 * `--since`/`--until` (named by `flag` in errors) as Unix nanoseconds,
 * relative to `now` (milliseconds since the epoch).
 */
export function parseSince(value: string, now: number = Date.now(), flag = '--since'): bigint {
  if (value !== '0') {
    const d = goDuration(value);
    if (d !== undefined) return BigInt(Math.floor((now - d / 1e6) / 1000)) * NS;
  }
  const localOffset = -new Date(now).getTimezoneOffset();
  const t = dateTime(value, localOffset);
  if (t !== undefined) return t;
  if (value.includes('-')) throw bad(flag, value, 'not a time (RFC 3339, e.g. "2013-01-02T13:23:37Z")');
  const unix = unixSeconds(value);
  if (unix === undefined) throw bad(flag, value, 'failed to parse value as time or duration (e.g. "2013-01-02T13:23:37Z", "42m" or Unix seconds)');
  return unix;
}

/** How docker's CLI sends a time to the API: `seconds.nanoseconds`. */
export function apiTimestamp(ns: bigint): string {
  const sec = ns / NS;
  const frac = ns % NS;
  return `${sec}.${(frac < 0n ? -frac : frac).toString().padStart(9, '0')}`;
}
