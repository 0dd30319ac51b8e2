/** The shape of one berth-runtime command: its flags, usage and what it does. */
import type { FlagSpec, Parsed } from '../args.ts';
import type { RuntimeContext } from '../../runtime/lifecycle/context.ts';

export interface CommandContext {
  runtime: RuntimeContext;
  /** Lines for the --log file / --debug output. */
  debug: (message: string) => void;
  out: (text: string) => void;
}

export interface Command {
  name: string;
  usage: string;
  description: string;
  flags: FlagSpec[];
  run: (ctx: CommandContext, args: Parsed) => Promise<number>;
}
