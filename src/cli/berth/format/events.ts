/**
 * `berth events` lines as docker's CLI prints them:
 * `2026-12-06T23:59:01.000000000Z container start ID (image=busybox, name=web)`
 * (the time in the local zone with nine fraction digits, attributes sorted
 * by key), or a --format template over docker's events.Message (Go field
 * names for the template, json tags for `{{json .}}`), one line an event.
 */
import { internal } from '../../../errors.ts';
import { formatError, parseFormat } from './list.ts';
import { TemplateError, type Template } from './template.ts';

export interface EventMessage {
  Type: string;
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  scope?: string;
  /** Unix seconds. */
  time: number;
  /** Unix nanoseconds (past 2^53: a bigint keeps them exact). */
  timeNano: number | bigint;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** One event from the daemon's stream, checked. */
export function asEventMessage(v: unknown): EventMessage {
  const bad = (why: string): never => {
    throw internal('daemon_response_invalid', `event from the daemon: ${why}`);
  };
  if (!isRecord(v)) return bad('not an object');
  const actor = isRecord(v['Actor']) ? v['Actor'] : {};
  const attributes: Record<string, string> = {};
  if (isRecord(actor['Attributes'])) for (const [k, x] of Object.entries(actor['Attributes'])) if (typeof x === 'string') attributes[k] = x;
  const type = typeof v['Type'] === 'string' ? v['Type'] : bad('Type is not a string');
  const action = typeof v['Action'] === 'string' ? v['Action'] : bad('Action is not a string');
  const time = typeof v['time'] === 'number' ? v['time'] : 0;
  const nano = v['timeNano'];
  return {
    Type: type,
    Action: action,
    Actor: { ID: typeof actor['ID'] === 'string' ? actor['ID'] : '', Attributes: attributes },
    ...(typeof v['scope'] === 'string' ? { scope: v['scope'] } : {}),
    time,
    timeNano: typeof nano === 'number' || typeof nano === 'bigint' ? nano : time * 1e9,
  };
}

/** Go's RFC3339NanoFixed ("2006-01-02T15:04:05.000000000Z07:00") in the local zone. */
export function rfc3339NanoFixed(unixNanos: bigint): string {
  const sec = unixNanos / 1_000_000_000n - (unixNanos % 1_000_000_000n < 0n ? 1n : 0n);
  const nanos = unixNanos - sec * 1_000_000_000n;
  const d = new Date(Number(sec) * 1000);
  const off = -d.getTimezoneOffset();
  const local = new Date(d.getTime() + off * 60_000).toISOString().slice(0, 19);
  const abs = Math.abs(off);
  const zone = off === 0 ? 'Z' : `${off < 0 ? '-' : '+'}${String(Math.trunc(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
  return `${local}.${nanos.toString().padStart(9, '0')}${zone}`;
}

function nanosOf(e: EventMessage): bigint | undefined {
  if (typeof e.timeNano === 'bigint') return e.timeNano === 0n ? undefined : e.timeNano;
  if (e.timeNano !== 0) {
    // A float past 2^53 is off by a few hundred ns; keep the whole seconds exact from `time`.
    const sec = e.time !== 0 ? BigInt(e.time) : BigInt(Math.floor(e.timeNano / 1e9));
    return sec * 1_000_000_000n + BigInt(Math.max(0, Math.min(999_999_999, Math.round(e.timeNano - Number(sec) * 1e9))));
  }
  return e.time !== 0 ? BigInt(e.time) * 1_000_000_000n : undefined;
}

/** docker's prettyPrintEvent, without the newline. */
export function eventLine(e: EventMessage): string {
  const nanos = nanosOf(e);
  const time = nanos === undefined ? '' : `${rfc3339NanoFixed(nanos)} `;
  const keys = Object.keys(e.Actor.Attributes).sort();
  const attrs = keys.length === 0 ? '' : ` (${keys.map((k) => `${k}=${e.Actor.Attributes[k] ?? ''}`).join(', ')})`;
  return `${time}${e.Type} ${e.Action} ${e.Actor.ID}${attrs}`;
}

/** The template's view: Go's field names, and json with the API's tags. */
function eventView(e: EventMessage): Record<string, unknown> {
  const attributes = new Map(Object.entries(e.Actor.Attributes));
  const actor = { ID: e.Actor.ID, Attributes: attributes };
  const id = e.Actor.ID;
  const from = e.Actor.Attributes['image'] ?? '';
  return {
    Status: e.Type === 'container' ? e.Action : '',
    ID: e.Type === 'container' ? id : '',
    From: e.Type === 'container' ? from : '',
    Type: e.Type,
    Action: e.Action,
    Actor: actor,
    Scope: e.scope ?? '',
    Time: e.time,
    TimeNano: e.timeNano,
    MarshalJSON: () => ({
      ...(e.Type === 'container' ? { status: e.Action, id, from } : {}),
      Type: e.Type,
      Action: e.Action,
      Actor: { ID: id, Attributes: attributes },
      scope: e.scope ?? '',
      time: e.time,
      timeNano: e.timeNano,
    }),
  };
}

/**
 * The template of `events --format`, checked against an empty event first
 * as docker does, so a bad field fails before any event arrives. Undefined:
 * docker's own line.
 */
export function eventsTemplate(format: string | undefined, flag = '--format'): Template | undefined {
  if (format === undefined || format === '') return undefined;
  const source = format === 'json' ? '{{json .}}' : format;
  const template = parseFormat(flag, format, source);
  try {
    template.execute(eventView({ Type: '', Action: '', Actor: { ID: '', Attributes: {} }, time: 0, timeNano: 0 }));
  } catch (err) {
    if (err instanceof TemplateError) throw formatError(flag, format, err);
    throw err;
  }
  return template;
}

/** One event as `berth events` prints it, with its newline. */
export function renderEvent(e: EventMessage, template: Template | undefined, format = '', flag = '--format'): string {
  if (template === undefined) return `${eventLine(e)}\n`;
  try {
    return `${template.execute(eventView(e))}\n`;
  } catch (err) {
    if (err instanceof TemplateError) throw formatError(flag, format, err);
    throw err;
  }
}
