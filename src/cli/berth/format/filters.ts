/**
 * `--filter key=value` as docker's CLI reads it (the key lower-cased, both
 * sides trimmed, repeated keys kept) into the API's filters JSON
 * (`{"status":{"running":true}}`), with the keys each command's daemon
 * accepts checked here, on the client, so a typo is named before any
 * request: `--filter "stauts=exited": invalid filter 'stauts' (ps takes:
 * ...)`. Values docker itself checks (status, health, exited, dangling) are
 * checked the same way.
 */
import { invalidArgument, type BerthError } from '../../../errors.ts';

export type Filters = Record<string, Record<string, true>>;

export type FilterCommand = 'ps' | 'container prune' | 'volume ls' | 'volume prune' | 'network ls' | 'network prune' | 'events';

const KEYS: Record<FilterCommand, readonly string[]> = {
  ps: ['ancestor', 'before', 'exited', 'health', 'id', 'label', 'name', 'network', 'since', 'status', 'volume'],
  'container prune': ['label', 'label!', 'until'],
  'volume ls': ['dangling', 'driver', 'label', 'name'],
  'volume prune': ['all', 'label', 'label!'],
  'network ls': ['dangling', 'driver', 'id', 'label', 'name', 'scope', 'type'],
  'network prune': ['label', 'label!', 'until'],
  events: ['container', 'daemon', 'event', 'image', 'label', 'network', 'scope', 'type', 'volume'],
};

const STATUS = ['created', 'restarting', 'running', 'removing', 'paused', 'exited', 'dead'];
const HEALTH = ['starting', 'healthy', 'unhealthy', 'none'];
const BOOLS = ['true', 'false', '1', '0'];

function bad(flag: string, raw: string, why: string): BerthError {
  return invalidArgument('filter_invalid', `${flag} ${JSON.stringify(raw)}: ${why}`, { details: { flag, value: raw } });
}

function checkValue(flag: string, raw: string, command: FilterCommand, key: string, value: string): void {
  const oneOf = (allowed: readonly string[]): void => {
    if (!allowed.includes(value)) throw bad(flag, raw, `invalid value for '${key}': "${value}" (one of ${allowed.join(', ')})`);
  };
  if (command === 'ps' && key === 'status') oneOf(STATUS);
  if (command === 'ps' && key === 'health') oneOf(HEALTH);
  if (command === 'ps' && key === 'exited' && !/^-?\d+$/.test(value)) throw bad(flag, raw, `invalid value for 'exited': "${value}" is not an exit code`);
  if ((command === 'volume ls' && key === 'dangling') || (command === 'volume prune' && key === 'all') || (command === 'network ls' && key === 'dangling')) oneOf(BOOLS);
  if (command === 'network ls' && key === 'type') oneOf(['custom', 'builtin']);
}

/** The filters of a command line, checked for `command`. */
export function parseFilters(values: readonly string[], command: FilterCommand, flag = '--filter'): Filters {
  const filters: Filters = {};
  for (const raw of values) {
    if (raw === '') continue;
    const eq = raw.indexOf('=');
    if (eq === -1) throw bad(flag, raw, 'bad format of filter (expected name=value)');
    const key = raw.slice(0, eq).trim().toLowerCase();
    const value = raw.slice(eq + 1).trim();
    if (!KEYS[command].includes(key)) throw bad(flag, raw, `invalid filter '${key}' (${command} takes: ${KEYS[command].join(', ')})`);
    checkValue(flag, raw, command, key, value);
    (filters[key] ??= {})[value] = true;
  }
  return filters;
}

/** The `filters` query parameter: the JSON, or undefined when there is none to send. */
export function filtersParam(filters: Filters): string | undefined {
  return Object.keys(filters).length === 0 ? undefined : JSON.stringify(filters);
}
