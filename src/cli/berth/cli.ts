/**
 * `berth`: the image commands for now (pull, push, images, rmi, tag, save,
 * load, import, login, logout, and `berth image …`). Global options:
 * --root DIR (default /var/lib/berth), --quiet, --tls-verify=false,
 * --authfile FILE, --creds USER:PASS. Errors print as one line with the
 * cause chain; the exit code comes from the error's kind.
 */
import { exitCodeFor } from '../../error-status.ts';
import { describeError, invalidArgument } from '../../errors.ts';
import { parse, splitVerb, str, bool } from './args.ts';
import { CommandContext, DEFAULT_DATA_ROOT, parseBoolFlag, parseCreds, type Output } from './context.ts';
import type { Command } from './commands/command.ts';
import { build } from './commands/build.ts';
import { copy } from './commands/copy.ts';
import { images } from './commands/images.ts';
import { importCmd } from './commands/import.ts';
import { inspect } from './commands/inspect.ts';
import { load } from './commands/load.ts';
import { login, logout } from './commands/login.ts';
import { prune } from './commands/prune.ts';
import { pull } from './commands/pull.ts';
import { push } from './commands/push.ts';
import { rmi } from './commands/rmi.ts';
import { save } from './commands/save.ts';
import { tag } from './commands/tag.ts';
import { unpack } from './commands/unpack.ts';
import { mount, unmount } from './commands/mount.ts';

const TOP: Record<string, Command> = { pull, push, images, rmi, tag, save, load, import: importCmd, login, logout, inspect, build };
const IMAGE: Record<string, Command> = {
  build,
  pull,
  push,
  ls: images,
  list: images,
  rm: rmi,
  tag,
  save,
  load,
  import: importCmd,
  inspect,
  copy,
  cp: copy,
  prune,
  unpack,
  mount,
  unmount,
  umount: unmount,
};

function lookup(verb: string[]): Command | undefined {
  if (verb[0] === 'image') return verb[1] === undefined ? undefined : IMAGE[verb[1]];
  return verb[0] === undefined ? undefined : TOP[verb[0]];
}

function help(): string {
  const lines = ['usage: berth [--root DIR] [--quiet] [--tls-verify=false] [--authfile FILE] [--creds USER:PASS] COMMAND', '', 'Commands:'];
  for (const [name, c] of Object.entries(TOP)) lines.push(`  ${name.padEnd(14)}${c.summary}`);
  lines.push('', 'berth image:');
  for (const name of ['copy', 'inspect', 'prune', 'unpack', 'mount', 'unmount']) lines.push(`  image ${name.padEnd(8)}${IMAGE[name]?.summary ?? ''}`);
  lines.push('', 'A name without a registry means the default registry (BERTH_DEFAULT_REGISTRY), or localhost/ for local images.');
  return `${lines.join('\n')}\n`;
}

function output(stream: NodeJS.WriteStream): Output {
  return { write: (t) => void stream.write(t), isTTY: stream.isTTY, columns: stream.columns || 80, stream };
}

export async function main(argv: string[], stdout: Output = output(process.stdout), stderr: Output = output(process.stderr)): Promise<number> {
  let ctx: CommandContext | undefined;
  try {
    const { verb, rest } = splitVerb(argv, (v) => lookup(v)?.options ?? {});
    const command = lookup(verb);
    if (command === undefined) {
      if (verb.length === 0 && rest.includes('--version')) {
        stdout.write('berth version 0.1.0\n');
        return 0;
      }
      if (verb.length === 0 || verb[0] === 'help' || rest.includes('--help') || rest.includes('-h')) {
        stdout.write(help());
        return verb.length === 0 && !rest.includes('--help') && !rest.includes('-h') ? 2 : 0;
      }
      throw invalidArgument('unknown_command', `unknown command "${verb.join(' ')}" (see berth --help)`);
    }
    const args = parse(rest, command.options, command.usage);
    if (bool(args, 'help')) {
      stdout.write(`${command.summary}\nusage: ${command.usage}\n`);
      return 0;
    }
    const tls = str(args, 'tls-verify');
    const creds = str(args, 'creds');
    ctx = new CommandContext(
      {
        root: str(args, 'root') ?? DEFAULT_DATA_ROOT,
        quiet: bool(args, 'quiet'),
        tlsVerify: tls === undefined ? undefined : parseBoolFlag('tls-verify', tls),
        authFile: str(args, 'authfile'),
        creds: creds === undefined ? undefined : parseCreds(creds),
      },
      stdout,
      stderr,
    );
    return (await command.run(ctx, args)) ?? 0;
  } catch (err) {
    stderr.write(`berth: ${describeError(err)}\n`);
    return exitCodeFor(err);
  } finally {
    ctx?.close();
  }
}

