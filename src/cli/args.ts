/**
 * Command-line parsing in the style of runc's (urfave/cli): global flags,
 * a command, its flags, then positional arguments. `--flag value`,
 * `--flag=value`, `-f value` and Go's `-flag value` all work; flags end at
 * the first positional argument or at `--`. Unknown flags are errors that
 * name the flag.
 */
import { invalidArgument } from '../errors.ts';

export type FlagType = 'bool' | 'string' | 'int' | 'list';

export interface FlagSpec {
  name: string;
  short?: string;
  type: FlagType;
  help: string;
  /** Shown in help as the value's name. */
  value?: string;
}

export type FlagValues = Record<string, string | boolean | number | string[] | undefined>;

export interface Parsed {
  flags: FlagValues;
  rest: string[];
}

function find(specs: readonly FlagSpec[], name: string): FlagSpec | undefined {
  return specs.find((s) => s.name === name || s.short === name);
}

/** Parses leading flags of `argv`; stops at the first argument that is not a flag. */
export function parseFlags(argv: readonly string[], specs: readonly FlagSpec[], where: string): Parsed {
  const flags: FlagValues = {};
  let i = 0;
  for (; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '--') {
      i++;
      break;
    }
    if (!arg.startsWith('-') || arg === '-') break;
    const body = arg.replace(/^--?/, '');
    const eq = body.indexOf('=');
    const name = eq >= 0 ? body.slice(0, eq) : body;
    const inline = eq >= 0 ? body.slice(eq + 1) : undefined;
    const spec = find(specs, name);
    if (!spec) throw invalidArgument('unknown_flag', `${where}: flag provided but not defined: -${name}`);
    if (spec.type === 'bool') {
      if (inline === undefined) flags[spec.name] = true;
      else if (inline === 'true' || inline === '1') flags[spec.name] = true;
      else if (inline === 'false' || inline === '0') flags[spec.name] = false;
      else throw invalidArgument('invalid_flag', `${where}: --${spec.name}: "${inline}" is not a boolean`);
      continue;
    }
    let value = inline;
    if (value === undefined) {
      value = argv[++i];
      if (value === undefined) throw invalidArgument('missing_flag_value', `${where}: --${spec.name} needs a value`);
    }
    if (spec.type === 'int') {
      if (!/^-?\d+$/.test(value)) throw invalidArgument('invalid_flag', `${where}: --${spec.name}: "${value}" is not an integer`);
      flags[spec.name] = Number(value);
    } else if (spec.type === 'list') {
      const prev = flags[spec.name];
      flags[spec.name] = [...(Array.isArray(prev) ? prev : []), value];
    } else {
      flags[spec.name] = value;
    }
  }
  return { flags, rest: argv.slice(i) };
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
  return Array.isArray(v) ? v : [];
}

export function flagHelp(specs: readonly FlagSpec[]): string {
  return specs
    .map((s) => {
      const names = `${s.short ? `-${s.short}, ` : '    '}--${s.name}${s.type === 'bool' ? '' : ` ${s.value ?? 'value'}`}`;
      return `   ${names.padEnd(34)} ${s.help}`;
    })
    .join('\n');
}

/** Exactly `n` positional arguments, named for the error message. */
export function positional(rest: readonly string[], names: readonly string[], where: string): string[] {
  if (rest.length !== names.length) {
    throw invalidArgument(
      'wrong_args',
      `${where}: expects ${names.length} argument${names.length === 1 ? '' : 's'} (${names.join(' ')}), got ${rest.length}`,
    );
  }
  return [...rest];
}
