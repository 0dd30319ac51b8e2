/**
 * What the engine keeps of a create request in the record's `options`
 * column, beside the spec it wrote to config.json: what `start` needs
 * (terminal, stdin), what `stop` needs (signal, timeout), what `inspect`
 * and `ps` show. Read back as unknown and checked, never trusted.
 */
import { internal } from '../errors.ts';
import type { Healthcheck } from './spec/health.ts';
import type { RunOptions } from './spec/options.ts';
import type { ExposedPort } from './spec/ports.ts';
import { isObject } from '../json-object.ts';

export interface StoredOptions {
  run: RunOptions;
  /** Arguments after the image, as given. */
  args: string[];
  /** The process's argv as the spec runs it (ps's COMMAND). */
  command: string[];
  tty: boolean;
  openStdin: boolean;
  stdinOnce: boolean;
  stopSignal: number;
  stopTimeout: number;
  /** The image's top chain ID: the parent of the container's snapshot. */
  imageTop: string;
  health?: Healthcheck;
  /** The anonymous and named volumes mounted, by target. */
  volumes: Record<string, string>;
  /** The image's EXPOSE and --expose and -p's container ports (absent in records made before networking). */
  exposed?: ExposedPort[];
}


const strings = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === 'string');

export function readStoredOptions(value: unknown, name: string): StoredOptions {
  const bad = (field: string): never => {
    throw internal('engine_record_corrupt', `container "${name}": stored options field ${field} is missing or malformed`);
  };
  if (!isObject(value)) return bad('(the object)');
  if (!isObject(value['run'])) bad('run');
  if (!strings(value['args'])) bad('args');
  if (!strings(value['command'])) bad('command');
  for (const f of ['tty', 'openStdin', 'stdinOnce']) if (typeof value[f] !== 'boolean') bad(f);
  for (const f of ['stopSignal', 'stopTimeout']) if (!Number.isInteger(value[f])) bad(f);
  if (typeof value['imageTop'] !== 'string') bad('imageTop');
  if (!isObject(value['volumes'])) bad('volumes');
  return value as unknown as StoredOptions;
}
