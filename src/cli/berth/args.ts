/**
 * Command-line parsing on node:util parseArgs: global options may stand
 * anywhere (as podman's do), the verb is the first word that is not an
 * option ("image" takes a second word), and each command declares its own
 * options. Errors name the flag.
 */
import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';
import { describeError, invalidArgument } from '../../errors.ts';

export const GLOBAL_OPTIONS = {
  root: { type: 'string' },
  quiet: { type: 'boolean', short: 'q' },
  'tls-verify': { type: 'string' },
  authfile: { type: 'string' },
  creds: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
} as const satisfies ParseArgsOptionsConfig;

/** Splits argv into the verb words and the rest (options and operands). */
export function splitVerb(argv: string[], commandOptions: (verb: string[]) => ParseArgsOptionsConfig): { verb: string[]; rest: string[] } {
  const verb: string[] = [];
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    if (a === '--') {
      rest.push(...argv.slice(i));
      break;
    }
    if (a.startsWith('-') && a !== '-') {
      rest.push(a);
      const name = a.startsWith('--') ? a.slice(2) : a.slice(1);
      const opts = { ...GLOBAL_OPTIONS, ...commandOptions(verb) } as ParseArgsOptionsConfig;
      const spec = a.startsWith('--') ? opts[name] : Object.values(opts).find((o) => o.short === name);
      if (spec?.type === 'string' && !a.includes('=') && i + 1 < argv.length) rest.push(argv[++i] ?? '');
      continue;
    }
    const wantsMore = verb.length === 0 || (verb.length === 1 && verb[0] === 'image');
    if (wantsMore) verb.push(a);
    else rest.push(a);
  }
  return { verb, rest };
}

export interface Parsed {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

export function parse(args: string[], options: ParseArgsOptionsConfig, usage: string): Parsed {
  try {
    const { values, positionals } = parseArgs({ args, options: { ...GLOBAL_OPTIONS, ...options }, allowPositionals: true, strict: true });
    return { values: values, positionals };
  } catch (err) {
    throw invalidArgument('invalid_flag', `${describeError(err)}\nusage: ${usage}`, { cause: err });
  }
}

export function str(p: Parsed, name: string): string | undefined {
  const v = p.values[name];
  return typeof v === 'string' ? v : undefined;
}

export function bool(p: Parsed, name: string): boolean {
  return p.values[name] === true;
}

export function list(p: Parsed, name: string): string[] {
  const v = p.values[name];
  return Array.isArray(v) ? v : typeof v === 'string' ? [v] : [];
}

export function operands(p: Parsed, min: number, max: number, usage: string): string[] {
  if (p.positionals.length < min || p.positionals.length > max) {
    throw invalidArgument('invalid_arguments', `expected ${min === max ? min : `${min} to ${max}`} argument${max === 1 ? '' : 's'}, got ${p.positionals.length}\nusage: ${usage}`);
  }
  return p.positionals;
}
