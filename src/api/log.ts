/**
 * berthd's structured log: one JSON object a line, `{"time", "level",
 * "msg", ...fields}`, below a chosen level dropped. Errors in fields are
 * written as their message with the cause chain and, for a BerthError, its
 * code, so a line can be matched by code.
 */
import { BerthError, describeError, invalidArgument } from '../errors.ts';

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export type LogFields = Readonly<Record<string, unknown>>;

export interface Logger {
  readonly level: LogLevel;
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger whose lines all carry `fields` too. */
  child(fields: LogFields): Logger;
}

export interface LoggerOptions {
  level?: LogLevel;
  /** Where lines go (default: stderr, which the daemon started in the background has on its log file). */
  write?: (line: string) => void;
  now?: () => Date;
}

export function parseLogLevel(text: string): LogLevel {
  const found = LOG_LEVELS.find((l) => l === text);
  if (found === undefined) throw invalidArgument('invalid_log_level', `--log-level: "${text}" is not one of ${LOG_LEVELS.join(', ')}`);
  return found;
}

const RESERVED = new Set(['time', 'level', 'msg']);

function plain(value: unknown): unknown {
  if (value instanceof BerthError) return { message: describeError(value), code: value.code };
  if (value instanceof Error) return { message: describeError(value) };
  if (typeof value === 'bigint') return value.toString();
  return value;
}

export function createLogger(options: LoggerOptions = {}, bound: LogFields = {}): Logger {
  const level = options.level ?? 'info';
  const write = options.write ?? ((line: string) => void process.stderr.write(line));
  const now = options.now ?? (() => new Date());
  const min = LOG_LEVELS.indexOf(level);
  const emit = (at: LogLevel, msg: string, fields: LogFields = {}): void => {
    if (LOG_LEVELS.indexOf(at) < min) return;
    const line: Record<string, unknown> = { time: now().toISOString(), level: at, msg };
    for (const [k, v] of Object.entries({ ...bound, ...fields })) line[RESERVED.has(k) ? `field_${k}` : k] = plain(v);
    let text: string;
    try {
      text = JSON.stringify(line, (_k, v: unknown) => plain(v));
    } catch {
      // A field that cannot be written (a cycle) must not lose the line.
      text = JSON.stringify({ time: line['time'], level: at, msg, fields: 'unserializable' });
    }
    write(`${text}\n`);
  };
  return {
    level,
    debug: (msg, fields) => emit('debug', msg, fields),
    info: (msg, fields) => emit('info', msg, fields),
    warn: (msg, fields) => emit('warn', msg, fields),
    error: (msg, fields) => emit('error', msg, fields),
    child: (fields) => createLogger(options, { ...bound, ...fields }),
  };
}

/** A logger that drops everything (libraries' tests, clients). */
export const silentLogger: Logger = createLogger({ level: 'error', write: () => {} });
