/**
 * How a command of `berth` or `berth-runtime` is declared. Two halves, so
 * that start-up pays only for the command that runs:
 *
 *   - an Entry in its program's table (name, aliases, one-line summary, and
 *     how to load the rest): all a program's help needs;
 *   - a Command in the module the entry loads (`export default
 *     defineCommand({...})`): positional arguments, typed flags with help,
 *     and the handler, which gets its dependencies (`ctx`, made by the
 *     program) and its parsed input as arguments, never from globals.
 *
 * Entries sit in groups named after nouns (`berth image pull`); a program
 * may also put an entry at the top (`berth pull`, docker's shortcuts).
 */
import type { Dialect, FlagSpec, Input } from './flags.ts';

export interface Command<C, N extends string = string> {
  /**
   * Positional arguments in usage notation, each one of `NAME`, `[NAME]`,
   * `NAME...`, `[NAME...]`; the framework checks the count before `run`.
   */
  readonly args: readonly string[];
  readonly flags: readonly FlagSpec[];
  /** Longer help than the entry's summary, when the summary is not enough. */
  readonly description?: string;
  /**
   * The first positional argument ends the command's flags even in docker's
   * dialect (cobra's SetInterspersed(false)): `run IMAGE ls -l`, `exec ID sh -c`.
   */
  readonly flagsEndAtFirstArg?: boolean;
  /** The exit code (undefined: 0). Failures are thrown as BerthError. */
  run(ctx: C, input: Input<N>): Promise<number | undefined>;
}

/**
 * The `defineCommand` of a program whose handlers get a `C`: each program
 * makes its own once (`commandsFor<RuntimeCommandContext>()`). The flag
 * names a handler may read are the ones its command declares.
 */
export function commandsFor<C>() {
  return <const F extends readonly FlagSpec[]>(command: {
    args: readonly string[];
    flags: F;
    description?: string;
    flagsEndAtFirstArg?: boolean;
    run(ctx: C, input: Input<F[number]['name']>): Promise<number | undefined>;
  }): Command<C> => command;
}

export interface Entry<C> {
  readonly name: string;
  readonly aliases?: readonly string[];
  readonly summary: string;
  readonly load: () => Promise<{ default: Command<C> }>;
}

export interface Group<C> {
  /** A noun: image, container, network, volume, fn, system. */
  readonly name: string;
  readonly summary: string;
  /** Empty for a room kept for commands that do not exist yet. */
  readonly commands: readonly Entry<C>[];
  /** Groups inside this one (`berth fn secret create`). */
  readonly groups?: readonly Group<C>[];
}

export interface Program<C> {
  readonly name: string;
  readonly summary: string;
  readonly dialect: Dialect;
  /** Global flags (`help` is added at every level by the framework). */
  readonly globals: readonly FlagSpec[];
  /** Commands at the top (for berth: docker's shortcuts into the groups, and login/logout). */
  readonly commands: readonly Entry<C>[];
  readonly groups: readonly Group<C>[];
  /** Printed for `--version` (a global flag named "version"). */
  version?(): string;
  /** A closing paragraph of the top-level help. */
  readonly footer?: string;
}

/** The same entry at the top under another name (`berth images` for `berth image ls`). */
export function shortcut<C>(entry: Entry<C>, name: string, aliases: readonly string[] = []): Entry<C> {
  return { name, aliases, summary: entry.summary, load: entry.load };
}
