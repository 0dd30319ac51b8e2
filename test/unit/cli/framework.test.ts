/**
 * The command-line framework both commands use (src/cli/framework): flags
 * and their types, the two dialects (runc's, docker's), groups and
 * shortcuts, help at every level, usage errors and their exit code.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { commandsFor, shortcut, type Entry, type Program } from '../../../src/cli/framework/command.ts';
import { DOCKER, RUNC, type Dialect, type FlagSpec } from '../../../src/cli/framework/flags.ts';
import { parseCommandLine, runProgram } from '../../../src/cli/framework/run.ts';
import { isBerthError } from '../../../src/errors.ts';

interface Ctx {
  calls: string[];
}
const define = commandsFor<Ctx>();

const copy = define({
  args: ['SRC', 'DST'],
  flags: [
    { name: 'all', short: 'a', type: 'bool', help: 'every platform' },
    { name: 'quiet', short: 'q', type: 'bool', help: 'say less' },
    { name: 'output', short: 'o', type: 'string', value: 'FILE', help: 'where' },
    { name: 'retries', type: 'int', help: 'how often' },
    { name: 'label', short: 'l', type: 'list', value: 'K=V', help: 'a label' },
  ],
  run(ctx, input) {
    ctx.calls.push(JSON.stringify({ args: input.args, all: input.bool('all'), quiet: input.bool('quiet'), output: input.str('output'), retries: input.int('retries'), label: input.list('label') }));
    return Promise.resolve(input.int('retries') ?? 0);
  },
});
const exec = define({
  args: ['ID', '[COMMAND...]'],
  flags: [{ name: 'tty', short: 't', type: 'bool', help: 'a terminal' }],
  run(ctx, input) {
    ctx.calls.push(`exec tty=${input.bool('tty')} ${input.args.join(' ')}`);
    return Promise.resolve(undefined);
  },
});

// docker's run: flags stop at the image, and -h is --hostname there.
const runLike = define({
  args: ['IMAGE', '[COMMAND...]'],
  flagsEndAtFirstArg: true,
  flags: [
    { name: 'detach', short: 'd', type: 'bool', help: 'in the background' },
    { name: 'hostname', short: 'h', type: 'string', help: 'host name' },
  ],
  run(ctx, input) {
    ctx.calls.push(`run d=${input.bool('detach')} h=${input.str('hostname') ?? ''} ${input.args.join(' ')}`);
    return Promise.resolve(undefined);
  },
});

const copyEntry: Entry<Ctx> = { name: 'copy', aliases: ['cp'], summary: 'Copy things', load: () => Promise.resolve({ default: copy }) };
const execEntry: Entry<Ctx> = { name: 'exec', summary: 'Run in it', load: () => Promise.resolve({ default: exec }) };
const GLOBALS: FlagSpec[] = [
  { name: 'root', type: 'string', value: 'DIR', help: 'state' },
  { name: 'tls-verify', type: 'bool', help: 'check certificates' },
  { name: 'version', type: 'bool', help: 'print the version' },
];

function program(dialect: Dialect): Program<Ctx> {
  return {
    name: 'tool',
    summary: 'A tool.',
    dialect,
    globals: GLOBALS,
    commands: [shortcut(copyEntry, 'cp2'), execEntry, { name: 'run', summary: 'Run it', load: () => Promise.resolve({ default: runLike }) }],
    groups: [
      { name: 'image', summary: 'Manage images', commands: [copyEntry], groups: [{ name: 'tools', summary: 'Image tools', commands: [execEntry] }] },
      { name: 'volume', summary: 'Manage volumes', commands: [] },
    ],
    version: () => 'tool 1.0\n',
  };
}

interface CopyCall {
  args: string[];
  quiet: boolean;
}
const call = (calls: string[]): CopyCall => JSON.parse(calls[0] ?? '') as CopyCall;

async function run(dialect: Dialect, ...argv: string[]): Promise<{ code: number; out: string; err: string; calls: string[]; root: string | undefined }> {
  let out = '';
  let err = '';
  const calls: string[] = [];
  let root: string | undefined;
  const code = await runProgram(program(dialect), argv, {
    out: (t) => void (out += t),
    context: ({ globals }) => {
      root = globals.str('root');
      return { calls };
    },
    report: (e) => void (err += e instanceof Error ? e.message : String(e)),
  });
  return { code, out, err, calls, root };
}

test('flags: long, short, =value, Go single-dash long names, grouped shorts, int, list, --', async () => {
  const r = await run(DOCKER, 'image', 'copy', '--output', 'f', '-qa', '--retries=3', '-lA=1', '-l', 'B=2', 'x', 'y');
  assert.equal(r.code, 3, 'the exit code is the handler\'s');
  assert.deepEqual(JSON.parse(r.calls[0] ?? ''), { args: ['x', 'y'], all: true, quiet: true, output: 'f', retries: 3, label: ['A=1', 'B=2'] });
  const go = await run(RUNC, 'cp2', '-output', 'g', '-ofile2', '--all=false', 'x', 'y');
  assert.deepEqual(JSON.parse(go.calls[0] ?? ''), { args: ['x', 'y'], all: false, quiet: false, output: 'file2', label: [] }, 'no --retries: undefined');
  const dashes = await run(DOCKER, 'image', 'cp', '--', '-x', '--y');
  assert.deepEqual(call(dashes.calls).args, ['-x', '--y']);
});

test('flags of the wrong type or without a value are usage errors naming the flag (exit 2)', async () => {
  const notInt = await run(DOCKER, 'image', 'copy', '--retries', 'many', 'a', 'b');
  assert.equal(notInt.code, 2);
  assert.match(notInt.err, /--retries: "many" is not an integer/);
  const notBool = await run(DOCKER, '--tls-verify=maybe', 'image', 'copy', 'a', 'b');
  assert.equal(notBool.code, 2);
  assert.match(notBool.err, /--tls-verify: want true or false, got "maybe"/);
  const missing = await run(DOCKER, 'image', 'copy', 'a', 'b', '--output');
  assert.equal(missing.code, 2);
  assert.match(missing.err, /--output needs a value/);
  assert.deepEqual([...notInt.calls, ...notBool.calls, ...missing.calls], [], 'no handler ran');
});

test('unknown flags are named in each dialect\'s words', async () => {
  const docker = await run(DOCKER, 'image', 'copy', '--bogus', 'a', 'b');
  assert.equal(docker.code, 2);
  assert.equal(docker.err, "unknown flag: --bogus (see 'tool image copy --help')");
  const runc = await run(RUNC, 'exec', '--bogus=1', 'a');
  assert.equal(runc.code, 2);
  assert.equal(runc.err, 'exec: flag provided but not defined: -bogus');
  const global = await run(RUNC, '--nope', 'exec', 'a');
  assert.equal(global.err, 'tool: flag provided but not defined: -nope');
});

test('runc\'s dialect: globals only before the command, flags end at the first argument', async () => {
  const r = await run(RUNC, '--root', '/r', 'exec', '-t', 'id', 'sh', '-c', 'echo --tty');
  assert.deepEqual(r.calls, ['exec tty=true id sh -c echo --tty']);
  assert.equal(r.root, '/r');
  const late = await run(RUNC, 'exec', '--root', '/r', 'id');
  assert.equal(late.code, 2);
  assert.match(late.err, /exec: flag provided but not defined: -root/);
});

test('docker\'s dialect: global flags anywhere, flags and arguments mixed', async () => {
  const r = await run(DOCKER, 'image', 'copy', 'a', '--root', '/r', 'b', '-q');
  assert.equal(r.root, '/r');
  assert.deepEqual(call(r.calls).args, ['a', 'b']);
  assert.equal(call(r.calls).quiet, true);
});

test('a command may end its flags at the first argument in docker\'s dialect (run IMAGE ls -l)', async () => {
  const r = await run(DOCKER, 'run', '-d', '--root', '/r', '-h', 'box', 'busybox', 'ls', '-l', '--root', 'x', '-d', '--help');
  assert.equal(r.code, 0);
  assert.deepEqual(r.calls, ['run d=true h=box busybox ls -l --root x -d --help'], 'what follows the image is the container\'s');
  assert.equal(r.root, '/r', 'a global flag before the image is still berth\'s');
  const help = await run(DOCKER, 'run', '--help');
  assert.match(help.out, /-h, --hostname/);
  assert.match(help.out, /^ {6}--help/m, '--help without -h where -h is --hostname');
  assert.deepEqual(help.calls, []);
});

test('the global flags are known before the command is looked up in runc\'s dialect (for --log)', async () => {
  const seen: (string | undefined)[] = [];
  await assert.rejects(
    parseCommandLine(program(RUNC), ['--root', '/early', 'frobnicate'], (g) => seen.push(g.str('root'))),
    (e) => isBerthError(e, 'unknown_command') && e.message === '"frobnicate" is not a tool command (see \'tool --help\')',
  );
  assert.deepEqual(seen, ['/early']);
});

test('groups, aliases and top-level shortcuts reach the same command', async () => {
  for (const argv of [['image', 'copy'], ['image', 'cp'], ['cp2']]) {
    const r = await run(DOCKER, ...argv, 'a', 'b');
    assert.equal(r.code, 0, argv.join(' '));
    assert.equal(call(r.calls).args.join(), 'a,b', argv.join(' '));
  }
  const unknown = await run(DOCKER, 'image', 'frob');
  assert.equal(unknown.code, 2);
  assert.equal(unknown.err, '"frob" is not a tool image command (see \'tool image --help\')');
  const empty = await run(DOCKER, 'volume', 'ls');
  assert.equal(empty.code, 2);
  assert.equal(empty.err, '"ls" is not a tool volume command (the group has no commands yet)');
});

test('positional arguments are counted against the declaration, with the usage line', async () => {
  const few = await run(DOCKER, 'image', 'copy', 'a');
  assert.equal(few.code, 2);
  assert.equal(few.err, 'image copy: expected 2 arguments, got 1\nusage: tool image copy [OPTIONS] SRC DST');
  const none = await run(RUNC, 'exec');
  assert.equal(none.err, 'exec: expected at least 1 argument, got 0\nusage: tool exec [OPTIONS] ID [COMMAND...]');
  assert.deepEqual([...few.calls, ...none.calls], []);
});

test('--help, -h and the word help at every level; a missing command shows help and exits 2', async () => {
  const top = await run(DOCKER, '--help');
  assert.equal(top.code, 0);
  assert.match(top.out, /^Usage: tool \[OPTIONS\] COMMAND\n\nA tool\.\n/);
  assert.match(top.out, /\n {2}cp2 +Copy things\n/);
  assert.match(top.out, /Management Commands:\n {2}image +Manage images\n {2}volume +Manage volumes \(no commands yet\)\n/);
  assert.match(top.out, /--root DIR +state\n/);
  assert.equal((await run(DOCKER, 'help')).out, top.out);

  const group = await run(DOCKER, 'image', '-h');
  assert.equal(group.code, 0);
  assert.match(group.out, /^Usage: tool image COMMAND\n\nManage images\n\nCommands:\n {2}copy +Copy things \(also: cp\)\n/);
  const empty = await run(DOCKER, 'help', 'volume');
  assert.match(empty.out, /No commands yet/);

  const command = await run(DOCKER, 'image', 'cp', '--help');
  assert.equal(command.code, 0);
  assert.match(command.out, /^Usage: tool image cp \[OPTIONS\] SRC DST\n\nCopy things\n/);
  assert.match(command.out, /Aliases:\n {2}tool image copy, tool image cp, tool cp2\n/);
  assert.match(command.out, /-o, --output FILE +where\n/);
  assert.match(command.out, /-l, --label K=V +a label \(repeatable\)\n/);
  assert.equal((await run(DOCKER, 'help', 'cp2')).out.split('\n')[0], 'Usage: tool cp2 [OPTIONS] SRC DST');
  assert.deepEqual(command.calls, [], 'help runs nothing');

  const bare = await run(DOCKER);
  assert.equal(bare.code, 2);
  assert.equal(bare.out, top.out);
  const bareGroup = await run(DOCKER, 'image');
  assert.equal(bareGroup.code, 2);
  assert.equal(bareGroup.out, group.out);
});

test('--version prints the program\'s version', async () => {
  const r = await run(RUNC, '--version');
  assert.deepEqual([r.code, r.out], [0, 'tool 1.0\n']);
});

test('a group inside a group (berth fn secret create): reached word by word, with its own help and the full path in it', async () => {
  const r = await run(DOCKER, 'image', 'tools', 'exec', '-t', 'x', 'y');
  assert.equal(r.code, 0, r.err);
  assert.deepEqual(r.calls, ['exec tty=true x y']);
  const help = await run(DOCKER, 'image', 'tools', '--help');
  assert.equal(help.code, 0);
  assert.match(help.out, /^Usage: tool image tools COMMAND\n\nImage tools\n/);
  assert.match(help.out, /^ {2}exec {2}Run in it$/m);
  const parent = await run(DOCKER, 'image');
  assert.equal(parent.code, 2);
  assert.match(parent.out, /^ {2}tools +Image tools$/m, 'the inner group is listed among the commands');
  const missing = await run(DOCKER, 'image', 'tools');
  assert.equal(missing.code, 2);
  assert.match(missing.out, /^Usage: tool image tools COMMAND/);
  const unknown = await run(DOCKER, 'image', 'tools', 'nope');
  assert.equal(unknown.code, 2);
  assert.match(unknown.err, /"nope" is not a tool image tools command/);
});
