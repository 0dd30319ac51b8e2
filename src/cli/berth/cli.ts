/**
 * `berth`: the image commands for now, grouped by noun (src/cli/berth/program.ts).
 * Errors print as one line with the cause chain; the exit code comes from
 * the error's kind (src/errors.ts).
 */
import { describeError } from '../../errors.ts';
import { runProgram } from '../framework/run.ts';
import { CommandContext, DEFAULT_DATA_ROOT, parseCreds, type Output } from './context.ts';
import { BERTH_PROGRAM } from './program.ts';

function output(stream: NodeJS.WriteStream): Output {
  return { write: (t) => void stream.write(t), isTTY: stream.isTTY, columns: stream.columns || 80, stream };
}

export async function main(argv: string[], stdout: Output = output(process.stdout), stderr: Output = output(process.stderr)): Promise<number> {
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
      );
    },
    report: (err) => stderr.write(`berth: ${describeError(err)}\n`),
    close: (ctx) => ctx.close(),
  });
}
