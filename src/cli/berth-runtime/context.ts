/** What every berth-runtime command's handler gets: the runtime library's context and the program's output. */
import type { RuntimeContext } from '../../runtime/lifecycle/context.ts';
import { commandsFor } from '../framework/command.ts';

export interface RuntimeCommandContext {
  runtime: RuntimeContext;
  /** Lines for the --log file / --debug output. */
  debug: (message: string) => void;
  out: (text: string) => void;
  /** A path given on the command line, made absolute against the caller's working directory. */
  path: (p: string) => string;
}

export const defineCommand = commandsFor<RuntimeCommandContext>();

/** A path flag's value made absolute, when given. */
export function optionalPath(ctx: RuntimeCommandContext, p: string | undefined): string | undefined {
  return p === undefined ? undefined : ctx.path(p);
}
