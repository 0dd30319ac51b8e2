/**
 * Flags as both commands take them: `--name value`, `--name=value`, `-n
 * value`, `-nvalue`, grouped short booleans (`-qa`), Go's single-dash long
 * form (`-bundle DIR`, which runc's callers use), `--` ending the flags.
 * A flag has a type; a value that does not fit it, a missing value or an
 * unknown flag is a usage error (exit code 2) naming the flag.
 *
 * Hand-written rather than node:util parseArgs: parseArgs has no integer
 * flags, no Go-style single-dash long names, and cannot stop at the first
 * positional argument (runc's commands need that: `exec ID sh -c ...`).
 */
import { invalidArgument } from '../../errors.ts';

export type FlagType = 'bool' | 'string' | 'int' | 'list';

export interface FlagSpec {
  readonly name: string;
  readonly short?: string;
  readonly type: FlagType;
  readonly help: string;
  /** The value's name in help (`--bundle DIR`). */
  readonly value?: string;
}

export type FlagValue = string | boolean | number | string[];
export type FlagValues = Record<string, FlagValue | undefined>;

/** How the two command lines differ, runc's (urfave/cli, Go's flag package) and docker's (cobra, pflag). */
export interface Dialect {
  /** runc: the first positional argument ends the flags; docker: flags and arguments mix. */
  readonly flagsEndAtFirstArg: boolean;
  /** docker: global flags may follow the command; runc: only before it. */
  readonly globalsAnywhere: boolean;
  /** The words of an unknown flag error, as each program's callers know them. */
  unknownFlag(token: string, name: string, where: string): string;
}

export const RUNC: Dialect = {
  flagsEndAtFirstArg: true,
  globalsAnywhere: false,
  unknownFlag: (_token, name, where) => `${where}: flag provided but not defined: -${name}`,
};

export const DOCKER: Dialect = {
  flagsEndAtFirstArg: false,
  globalsAnywhere: true,
  unknownFlag: (token, _name, where) => `unknown flag: ${token.split('=')[0] ?? token} (see '${where} --help')`,
};

export const HELP_FLAG: FlagSpec = { name: 'help', short: 'h', type: 'bool', help: 'show this help' };

/** Go's strconv.ParseBool, as `--flag=value` for a boolean takes it. */
function parseBool(text: string): boolean | undefined {
  if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(text)) return true;
  if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(text)) return false;
  return undefined;
}

function set(values: FlagValues, spec: FlagSpec, text: string, where: string): void {
  switch (spec.type) {
    case 'bool': {
      const b = parseBool(text);
      if (b === undefined) throw invalidArgument('invalid_flag', `${where}: --${spec.name}: want true or false, got "${text}"`);
      values[spec.name] = b;
      return;
    }
    case 'int':
      if (!/^-?\d+$/.test(text)) throw invalidArgument('invalid_flag', `${where}: --${spec.name}: "${text}" is not an integer`);
      values[spec.name] = Number(text);
      return;
    case 'list': {
      const prev = values[spec.name];
      values[spec.name] = [...(Array.isArray(prev) ? prev : []), text];
      return;
    }
    case 'string':
      values[spec.name] = text;
  }
}

/**
 * Reads the flag at `argv[i]` (which starts with "-") into `values`; returns
 * how many tokens it used (1, or 2 when the value is the next token).
 */
export function readFlag(argv: readonly string[], i: number, specs: readonly FlagSpec[], values: FlagValues, where: string, dialect: Dialect): number {
  const token = argv[i] ?? '';
  const long = token.startsWith('--');
  const body = token.slice(long ? 2 : 1);
  const eq = body.indexOf('=');
  const name = eq >= 0 ? body.slice(0, eq) : body;
  const inline = eq >= 0 ? body.slice(eq + 1) : undefined;
  // "--name", and Go's "-name" or a lone "-n".
  const spec = specs.find((s) => s.name === name || (!long && s.short === name));
  if (spec !== undefined) return takeValue(argv, i, spec, inline, values, where);
  // "-qa", "-ofile", "-o=file": short flags grouped, the last may take a value.
  if (!long) {
    for (let c = 0; c < body.length; c++) {
      const short = specs.find((s) => s.short === body[c]);
      if (short === undefined) break;
      if (short.type === 'bool') {
        if (c === body.length - 1) {
          values[short.name] = true;
          return 1;
        }
        if (body[c + 1] === '=') return takeValue(argv, i, short, body.slice(c + 2), values, where);
        values[short.name] = true;
        continue;
      }
      const rest = body.slice(c + 1);
      return takeValue(argv, i, short, rest === '' ? undefined : rest.replace(/^=/, ''), values, where);
    }
  }
  throw invalidArgument('unknown_flag', dialect.unknownFlag(token, name, where));
}

function takeValue(argv: readonly string[], i: number, spec: FlagSpec, inline: string | undefined, values: FlagValues, where: string): number {
  if (inline !== undefined) {
    set(values, spec, inline, where);
    return 1;
  }
  if (spec.type === 'bool') {
    values[spec.name] = true;
    return 1;
  }
  const next = argv[i + 1];
  if (next === undefined) throw invalidArgument('missing_flag_value', `${where}: --${spec.name} needs a value`);
  set(values, spec, next, where);
  return 2;
}

export function isFlag(token: string): boolean {
  return token.startsWith('-') && token !== '-' && token !== '--';
}

export function str(flags: FlagValues, name: string): string | undefined {
  const v = flags[name];
  return typeof v === 'string' ? v : undefined;
}
export function bool(flags: FlagValues, name: string): boolean {
  return flags[name] === true;
}
export function int(flags: FlagValues, name: string): number | undefined {
  const v = flags[name];
  return typeof v === 'number' ? v : undefined;
}
export function list(flags: FlagValues, name: string): string[] {
  const v = flags[name];
  return Array.isArray(v) ? v : typeof v === 'string' ? [v] : [];
}

/**
 * What a handler gets: its flags (each name checked against the command's
 * declaration at compile time) and its positional arguments, already
 * counted against the declaration.
 */
export class Input<N extends string = string> {
  readonly flags: FlagValues;
  readonly args: readonly string[];

  constructor(flags: FlagValues, args: readonly string[]) {
    this.flags = flags;
    this.args = args;
  }
  /** Whether the flag was given at all (a boolean given as =false counts). */
  has(name: N): boolean {
    return this.flags[name] !== undefined;
  }
  str(name: N): string | undefined {
    return str(this.flags, name);
  }
  bool(name: N): boolean {
    return bool(this.flags, name);
  }
  /** A boolean that may be absent (`--tls-verify`, `--tls-verify=false`, or neither). */
  maybeBool(name: N): boolean | undefined {
    const v = this.flags[name];
    return typeof v === 'boolean' ? v : undefined;
  }
  int(name: N): number | undefined {
    return int(this.flags, name);
  }
  list(name: N): string[] {
    return list(this.flags, name);
  }
}
