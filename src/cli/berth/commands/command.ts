/** The shape of one `berth` verb: its usage line, its own options and what it does. */
import type { ParseArgsOptionsConfig } from 'node:util';
import type { Parsed } from '../args.ts';
import type { CommandContext } from '../context.ts';

export interface Command {
  usage: string;
  summary: string;
  options: ParseArgsOptionsConfig;
  run(ctx: CommandContext, args: Parsed): Promise<number | undefined>;
}
