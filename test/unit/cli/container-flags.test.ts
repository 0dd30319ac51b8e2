/**
 * run/create/exec flags (src/cli/berth/container-flags.ts) read through the
 * real framework in docker's dialect, as `berth run` will: docker's names
 * and short forms, repeated flags in order, --env-file read on the client,
 * arguments after the image left to the container, -p refused by name.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { commandsFor, type Program } from '../../../src/cli/framework/command.ts';
import { DOCKER, type FlagValues } from '../../../src/cli/framework/flags.ts';
import { parseCommandLine } from '../../../src/cli/framework/run.ts';
import { CREATE_FLAGS, EXEC_FLAGS, RUN_FLAGS, execFlagsFrom, runFlagsFrom, stdioFlagsFrom } from '../../../src/cli/berth/container-flags.ts';
import { parseRunOptions } from '../../../src/engine/spec/options.ts';
import { isBerthError } from '../../../src/errors.ts';

const define = commandsFor<null>();
const noop = (): Promise<undefined> => Promise.resolve(undefined);
const program: Program<null> = {
  name: 'berth',
  summary: 'test',
  dialect: DOCKER,
  globals: [{ name: 'root', type: 'string', help: 'state' }],
  commands: [
    { name: 'run', summary: 'run', load: () => Promise.resolve({ default: define({ args: ['IMAGE', '[COMMAND...]'], flags: RUN_FLAGS, flagsEndAtFirstArg: true, run: noop }) }) },
    { name: 'create', summary: 'create', load: () => Promise.resolve({ default: define({ args: ['IMAGE', '[COMMAND...]'], flags: CREATE_FLAGS, flagsEndAtFirstArg: true, run: noop }) }) },
    { name: 'exec', summary: 'exec', load: () => Promise.resolve({ default: define({ args: ['CONTAINER', 'COMMAND...'], flags: EXEC_FLAGS, flagsEndAtFirstArg: true, run: noop }) }) },
  ],
  groups: [],
};

async function parse(...argv: string[]): Promise<{ flags: FlagValues; args: readonly string[] }> {
  const inv = await parseCommandLine(program, argv);
  assert.equal(inv.kind, 'command');
  if (inv.kind !== 'command') throw new Error('unreachable: asserted above');
  return { flags: inv.input.flags, args: inv.input.args };
}

const noFiles = (path: string): string => {
  throw new Error(`ENOENT: no such file or directory, open '${path}'`);
};

test('run: every flag by docker\'s name and short form becomes RunFlags, repeated flags in order', async () => {
  const { flags, args } = await parse(
    'run', '-d', '-i', '-t', '--rm', '--name', 'web', '-e', 'A=1', '--env', 'B=2', '-e', 'A=3', '-v', '/a:/b:ro', '--volume', 'data:/data',
    '--mount', 'type=tmpfs,target=/m', '--tmpfs', '/run', '-w', '/srv', '-u', '1000:1000', '--entrypoint', 'sh', '-h', 'box', '--read-only',
    '--cap-add', 'NET_ADMIN', '--cap-drop', 'ALL', '--security-opt', 'no-new-privileges', '-m', '64m', '--memory-swap', '128m', '--cpus', '0.5',
    '-c', '512', '--pids-limit', '100', '--ulimit', 'nofile=10:20', '--restart', 'no', '--health-cmd', 'true', '--health-interval', '5s',
    '--health-retries', '3', '--health-timeout', '1s', '--health-start-period', '2s', '--init', '-l', 'a=b', '--label', 'c', '--stop-signal',
    'SIGINT', '--stop-timeout', '5', '--network', 'none', '--pull', 'never', 'busybox', 'ls', '-l',
  );
  assert.deepEqual(args, ['busybox', 'ls', '-l'], 'what follows the image is the container\'s command, -l included');
  assert.deepEqual(stdioFlagsFrom(flags), { detach: true, interactive: true, tty: true });
  assert.deepEqual(runFlagsFrom(flags, noFiles), {
    name: 'web',
    env: ['A=1', 'B=2', 'A=3'],
    volume: ['/a:/b:ro', 'data:/data'],
    mount: ['type=tmpfs,target=/m'],
    tmpfs: ['/run'],
    workdir: '/srv',
    user: '1000:1000',
    entrypoint: 'sh',
    hostname: 'box',
    readOnly: true,
    capAdd: ['NET_ADMIN'],
    capDrop: ['ALL'],
    securityOpt: ['no-new-privileges'],
    memory: '64m',
    memorySwap: '128m',
    cpus: '0.5',
    cpuShares: '512',
    pidsLimit: '100',
    ulimit: ['nofile=10:20'],
    restart: 'no',
    rm: true,
    healthCmd: 'true',
    healthInterval: '5s',
    healthRetries: '3',
    healthTimeout: '1s',
    healthStartPeriod: '2s',
    init: true,
    label: ['a=b', 'c'],
    stopSignal: 'SIGINT',
    stopTimeout: '5',
    network: 'none',
    pull: 'never',
  });
});

test('the RunFlags of a command line go through the engine\'s parser (-e merged by key, later wins)', async () => {
  const { flags } = await parse('run', '-e', 'A=1', '-e', 'A=3', '--no-healthcheck', '--net', 'host', 'img');
  const options = parseRunOptions(runFlagsFrom(flags, noFiles));
  assert.deepEqual(options.env, ['A=3']);
  assert.equal(options.network, 'host', '--net is --network\'s old name');
  assert.deepEqual(options.health, { disabled: true });
});

test('flags not given are left out, so the engine applies its defaults', async () => {
  const { flags } = await parse('create', 'img');
  assert.deepEqual(runFlagsFrom(flags, noFiles), {});
  assert.deepEqual(stdioFlagsFrom(flags), { detach: false, interactive: false, tty: false });
  await assert.rejects(parse('create', '-d', 'img'), (err) => isBerthError(err, 'unknown_flag') && /unknown flag: -d/.test(err.message), 'create has no --detach, as docker');
});

test('--env-file is read on the client, files before -e; an unreadable file is named', async () => {
  const files: Record<string, string> = { '/e1': '# comment\nA=file\n\nB=file\n', '/e2': 'C=two\n' };
  const read = (p: string): string => {
    const text = files[p];
    if (text === undefined) return noFiles(p);
    return text;
  };
  const { flags } = await parse('run', '--env-file', '/e1', '-e', 'B=flag', '--env-file', '/e2', 'img');
  const run = runFlagsFrom(flags, read);
  assert.deepEqual(run.envFile, [{ path: '/e1', text: files['/e1'] }, { path: '/e2', text: files['/e2'] }], 'in the order given');
  assert.deepEqual(parseRunOptions(run).env, ['A=file', 'B=flag', 'C=two']);
  const missing = await parse('run', '--env-file', '/nope', 'img');
  assert.throws(() => runFlagsFrom(missing.flags, read), (err) => {
    assert.ok(isBerthError(err, 'run_flag_invalid'));
    assert.match(err.message, /^--env-file "\/nope": cannot read it: ENOENT/);
    return true;
  });
});

test('the network flags reach RunFlags as given', async () => {
  const { flags } = await parse('run', '-p', '8080:80', '-p', '53/udp', '-P', '--expose', '90', '--network', 'front', '--network-alias', 'db',
    '--dns', '10.0.0.2', '--dns-search', 'x.internal', '--dns-option', 'ndots:2', '--add-host', 'gw:host-gateway', '--ip', '10.1.0.5', '--mac-address', '02:00:00:00:00:01', 'img');
  assert.deepEqual(runFlagsFrom(flags, noFiles), {
    network: 'front', networkAlias: ['db'], publish: ['8080:80', '53/udp'], publishAll: true, expose: ['90'],
    dns: ['10.0.0.2'], dnsSearch: ['x.internal'], dnsOption: ['ndots:2'], addHost: ['gw:host-gateway'], ip: '10.1.0.5', macAddress: '02:00:00:00:00:01',
  });
});

test('--net and --network that disagree are refused', async () => {
  const { flags } = await parse('run', '--net', 'host', '--network', 'none', 'img');
  assert.throws(() => runFlagsFrom(flags, noFiles), (err) => isBerthError(err, 'run_flag_invalid') && /--net "host": conflicts with --network "none"/.test(err.message));
});

test('exec: -d -i -t -u -w -e --env-file, arguments after the container left alone, --privileged refused', async () => {
  const { flags, args } = await parse('exec', '-it', '-u', 'nobody', '-w', '/tmp', '-e', 'X=1', '-e', 'HOME', '--env-file', '/f', 'web', 'sh', '-c', 'echo -e');
  assert.deepEqual(args, ['web', 'sh', '-c', 'echo -e']);
  const exec = execFlagsFrom(flags, () => 'Y=2\n', { HOME: '/root' });
  assert.deepEqual(exec, { detach: false, interactive: true, tty: true, user: 'nobody', workdir: '/tmp', env: ['Y=2', 'X=1', 'HOME=/root'] });
  const relative = await parse('exec', '-w', 'tmp', 'web', 'true');
  assert.throws(() => execFlagsFrom(relative.flags, noFiles, {}), (err) => isBerthError(err, 'run_flag_invalid') && /--workdir "tmp"/.test(err.message));
  const privileged = await parse('exec', '--privileged', 'web', 'true');
  assert.throws(() => execFlagsFrom(privileged.flags, noFiles, {}), (err) => isBerthError(err, 'exec_privileged_unsupported') && /--privileged/.test(err.message));
});
