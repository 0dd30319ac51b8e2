/**
 * From argv to a handler's exit code: the command is found word by word
 * (a group, then its command; or a command at the top), flags are read
 * against what is known at that point (the globals, then the command's
 * own), the positional arguments are counted, and `--help`, `-h` or the
 * word `help` at any level print that level's help. Usage errors are
 * BerthErrors of kind invalid_argument, so src/errors.ts maps them to exit
 * code 2 like every other failure to its own code.
 */
import { exitCodeFor } from '../../error-status.ts';
import { invalidArgument } from '../../errors.ts';
import type { Command, Entry, Group, Program } from './command.ts';
import { HELP_FLAG, Input, isFlag, readFlag, type FlagValues } from './flags.ts';
import { commandHelp, groupHelp, programHelp, usageLine } from './help.ts';

export type Invocation<C> =
  /** Help asked for: printed, exit 0. */
  | { kind: 'help'; text: string }
  /** No command named: the help of the level reached, exit 2. */
  | { kind: 'incomplete'; text: string }
  | { kind: 'version'; globals: Input }
  | { kind: 'command'; globals: Input; path: readonly string[]; entry: Entry<C>; command: Command<C>; input: Input };

function find<C>(entries: readonly Entry<C>[], word: string): Entry<C> | undefined {
  return entries.find((e) => e.name === word || (e.aliases?.includes(word) ?? false));
}

function countArgs(spec: readonly string[]): { min: number; max: number } {
  const min = spec.filter((a) => !a.startsWith('[')).length;
  return { min, max: spec.some((a) => a.endsWith('...') || a.endsWith('...]')) ? Infinity : spec.length };
}

function checkArgs<C>(program: Program<C>, path: readonly string[], command: Command<C>, args: readonly string[]): void {
  const { min, max } = countArgs(command.args);
  if (args.length >= min && args.length <= max) return;
  const want = min === max ? `${min}` : max === Infinity ? `at least ${min}` : `${min} to ${max}`;
  throw invalidArgument(
    'wrong_args',
    `${path.join(' ')}: expected ${want} argument${(max === Infinity ? min : max) === 1 ? '' : 's'}, got ${args.length}\nusage: ${usageLine(program, path, command)}`,
  );
}

function unknownCommand<C>(program: Program<C>, word: string, group: Group<C> | undefined, path: readonly string[]): never {
  const where = [program.name, ...path].join(' ');
  const why = group !== undefined && group.commands.length === 0 ? 'the group has no commands yet' : `see '${where} --help'`;
  throw invalidArgument('unknown_command', `"${word}" is not a ${where} command (${why})`);
}

/**
 * Reads argv. `onGlobals` is called once the global flags are all known:
 * with runc's dialect at the command's name, so that `--log` applies to
 * the errors that follow; with docker's at the end.
 */
export async function parseCommandLine<C>(program: Program<C>, argv: readonly string[], onGlobals?: (globals: Input) => void): Promise<Invocation<C>> {
  const { dialect } = program;
  const globals: FlagValues = {};
  const own: FlagValues = {};
  const args: string[] = [];
  const path: string[] = [];
  let group: Group<C> | undefined;
  let entry: Entry<C> | undefined;
  let command: Command<C> | undefined;
  let helpWord = false;
  let flagsDone = false;
  let globalsKnown = false;
  const announce = (): void => {
    if (!globalsKnown) onGlobals?.(new Input(globals, []));
    globalsKnown = true;
  };
  for (let i = 0; i < argv.length; ) {
    const token = argv[i] ?? '';
    if (!flagsDone && token === '--') {
      flagsDone = true;
      i++;
      continue;
    }
    if (!flagsDone && isFlag(token)) {
      if (command === undefined) {
        i += readFlag(argv, i, [...program.globals, HELP_FLAG], globals, [program.name, ...path].join(' '), dialect);
      } else if (dialect.globalsAnywhere) {
        const merged: FlagValues = {};
        i += readFlag(argv, i, [...command.flags, HELP_FLAG, ...program.globals], merged, `${program.name} ${path.join(' ')}`, dialect);
        for (const [name, value] of Object.entries(merged)) {
          const mine = name === 'help' || command.flags.some((f) => f.name === name);
          const into = mine ? own : globals;
          // A repeated list flag accumulates.
          into[name] = Array.isArray(value) && Array.isArray(into[name]) ? [...into[name], ...value] : value;
        }
      } else {
        i += readFlag(argv, i, [...command.flags, HELP_FLAG], own, path.join(' '), dialect);
      }
      continue;
    }
    i++;
    if (command !== undefined) {
      args.push(token);
      if (dialect.flagsEndAtFirstArg || command.flagsEndAtFirstArg === true) flagsDone = true;
      continue;
    }
    if (!dialect.globalsAnywhere) announce();
    if (group === undefined && path.length === 0 && !helpWord && token === 'help' && find(program.commands, 'help') === undefined) {
      helpWord = true;
      continue;
    }
    {
      const g = (group === undefined ? program.groups : (group.groups ?? [])).find((x) => x.name === token);
      if (g !== undefined) {
        group = g;
        path.push(token);
        continue;
      }
    }
    const e = find(group?.commands ?? program.commands, token);
    if (e === undefined) unknownCommand(program, token, group, path);
    entry = e;
    path.push(token);
    command = (await e.load()).default;
    // What follows the command's name is its own (runc: no globals after it).
    flagsDone = false;
  }
  announce();
  const globalInput = new Input(globals, []);
  if (helpWord || globals['help'] === true || own['help'] === true) {
    if (entry !== undefined && command !== undefined) return { kind: 'help', text: commandHelp(program, path, entry, command) };
    return { kind: 'help', text: group === undefined ? programHelp(program) : groupHelp(program, group, path) };
  }
  if (globals['version'] === true && entry === undefined && program.version !== undefined) return { kind: 'version', globals: globalInput };
  if (entry === undefined || command === undefined) return { kind: 'incomplete', text: group === undefined ? programHelp(program) : groupHelp(program, group, path) };
  checkArgs(program, path, command, args);
  return { kind: 'command', globals: globalInput, path, entry, command, input: new Input(own, args) };
}

export interface ProgramIo<C> {
  out(text: string): void;
  /** Once the global flags are known (see parseCommandLine). */
  onGlobals?(globals: Input): void;
  /** The dependencies of the command about to run. */
  context(invocation: Extract<Invocation<C>, { kind: 'command' }>): C | Promise<C>;
  /** Shows a failure; the exit code comes from src/errors.ts. */
  report(err: unknown): void;
  close?(ctx: C): void;
}

/** Runs a program's command line; returns the exit code. */
export async function runProgram<C>(program: Program<C>, argv: readonly string[], io: ProgramIo<C>): Promise<number> {
  let ctx: C | undefined;
  try {
    const invocation = await parseCommandLine(program, argv, io.onGlobals === undefined ? undefined : (g) => io.onGlobals?.(g));
    switch (invocation.kind) {
      case 'help':
        io.out(invocation.text);
        return 0;
      case 'incomplete':
        io.out(invocation.text);
        return 2;
      case 'version':
        io.out(program.version?.() ?? '');
        return 0;
      default:
        ctx = await io.context(invocation);
        return (await invocation.command.run(ctx, invocation.input)) ?? 0;
    }
  } catch (err) {
    io.report(err);
    return exitCodeFor(err);
  } finally {
    if (ctx !== undefined) io.close?.(ctx);
  }
}
