/**
 * `berth`: the image commands for now, grouped by noun (src/cli/berth/program.ts).
 * Errors print as one line with the cause chain; the exit code comes from
 * the error's kind (src/errors.ts).
 */
import { describeError } from '../../errors.ts';
import { DirectWriter } from '../direct-write.ts';
import { runProgram } from '../framework/run.ts';
import { CommandContext, DEFAULT_DATA_ROOT, parseCreds, type Output } from './context.ts';
import { BERTH_PROGRAM } from './program.ts';

/**
 * One of this process's outputs, its stream made only when a command needs it (a terminal's size, a
 * pipeline): process.stdout loads the stream machinery, which a short command's start-up would pay.
 * Text goes straight to the descriptor until then (src/cli/direct-write.ts), and through the stream after.
 */
function output(fd: 1 | 2): Output {
  const open = (): NodeJS.WriteStream => (fd === 1 ? process.stdout : process.stderr);
  const direct = new DirectWriter(fd, open);
  let stream: NodeJS.WriteStream | undefined;
  return {
    write: (t) => (stream === undefined ? direct.write(t) : void stream.write(t)),
    get isTTY() {
      return open().isTTY === true;
    },
    get columns() {
      return open().columns || 80;
    },
    get stream() {
      return (stream ??= open());
    },
  };
}

/** Runs one command; berthd passes the client's outputs, environment and working directory (src/cli/berthd/cli-server.ts). */
export async function main(argv: string[], stdout: Output = output(1), stderr: Output = output(2), env: NodeJS.ProcessEnv = process.env, cwd?: string): Promise<number> {
  return runProgram(BERTH_PROGRAM, argv, {
    out: (text) => stdout.write(text),
    context({ globals }) {
      const creds = globals.str('creds');
      return new CommandContext(
        {
          root: globals.str('root') ?? DEFAULT_DATA_ROOT,
          runRoot: globals.str('run-root'),
          socket: globals.str('socket'),
          quiet: globals.bool('quiet'),
          tlsVerify: globals.maybeBool('tls-verify'),
          authFile: globals.str('authfile'),
          creds: creds === undefined ? undefined : parseCreds(creds),
        },
        stdout,
        stderr,
        env,
        cwd ?? process.cwd(),
      );
    },
    report: (err) => stderr.write(`berth: ${describeError(err)}\n`),
    close: (ctx) => ctx.close(),
  });
}
