/** What every berth-runtime command's handler gets: the runtime library's context and the program's output. */
import type { RuntimeContext } from '../../runtime/lifecycle/context.ts';
import { commandsFor } from '../framework/command.ts';

export interface RuntimeCommandContext {
  runtime: RuntimeContext;
  /** Lines for the --log file / --debug output. */
  debug: (message: string) => void;
  out: (text: string) => void;
}

export const defineCommand = commandsFor<RuntimeCommandContext>();
