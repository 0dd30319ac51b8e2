/**
 * berthd as a process (as root, like every integration test): its socket
 * and what answers on it, to berth's own client and to the real docker
 * CLI; one daemon per run root, however many try; a stale socket replaced;
 * started on demand (three commands at once start one), stopped by `berth
 * system stop` or SIGTERM, started again after a kill -9.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync, statfsSync, statSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { availableParallelism, totalmem } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { daemonHoldsLock, ensureDaemon, OnDemandClient } from '../../../src/api/daemon.ts';
import { API_VERSION } from '../../../src/api/router.ts';
import { lockHolder } from '../../../src/api/service.ts';
import { groupId } from '../../../src/api/socket.ts';
import { isBerthError } from '../../../src/errors.ts';
import { until } from '../../helpers/api.ts';
import { alive, BERTH_COMMAND, BERTHD_COMMAND, berthdPids, daemonDirs, REPO, runBerthd, waitForPing } from '../../helpers/berthd.ts';

const run = promisify(execFile);
const VERSION = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }).version;

test('berthd serves on a 0660 socket: _ping, version, info and metrics answer; an unknown route is a 404 naming it', async (t) => {
  const paths = daemonDirs(t);
  const fg = runBerthd(paths);
  const client = await waitForPing(paths, fg);
  assert.equal(statSync(paths.socket).mode & 0o777, 0o660);
  assert.equal(lockHolder(paths.lock), fg.child.pid);

  const ping = await client.request('GET', '/_ping');
  assert.equal(ping.body.toString(), 'OK');
  assert.equal(ping.headers['api-version'], API_VERSION);
  assert.equal(ping.headers['server'], `berth/${VERSION} (linux)`);
  const head = await client.request('HEAD', '/_ping');
  assert.equal(head.status, 200);
  assert.equal(head.body.length, 0);

  const version = (await client.json('GET', '/v1.43/version')) as Record<string, unknown>;
  assert.equal(version['Version'], VERSION);
  assert.equal(version['ApiVersion'], API_VERSION);
  assert.equal(version['Os'], 'linux');
  assert.equal(version['Arch'], process.arch === 'x64' ? 'amd64' : process.arch);

  const info = (await client.json('GET', '/info')) as Record<string, unknown>;
  assert.equal(info['DockerRootDir'], paths.root);
  assert.equal(info['NCPU'], availableParallelism());
  assert.equal(info['MemTotal'], totalmem());
  assert.equal(info['CgroupVersion'], statfsSync('/sys/fs/cgroup').type === 0x63677270 ? '2' : '1');
  assert.equal(info['CgroupDriver'], 'cgroupfs');
  assert.ok(info['Driver'] === 'overlay' || info['Driver'] === 'copy', String(info['Driver']));
  assert.equal(info['ServerVersion'], VERSION);
  assert.match(String(info['ID']), /^[0-9a-f-]{36}$/);

  const nowhere = await client.request('POST', '/v1.43/containers/web/frobnicate');
  assert.equal(nowhere.status, 404);
  assert.deepEqual(JSON.parse(nowhere.body.toString()), { message: 'page not found: POST /v1.43/containers/web/frobnicate' });

  const metrics = (await client.request('GET', '/metrics')).body.toString();
  assert.match(metrics, /^berth_api_requests_total\{method="GET",route="\/_ping",status="200"\} [1-9]/m);
  assert.match(metrics, /^berth_api_requests_total\{method="POST",route="unmatched",status="404"\} 1$/m);
  assert.match(metrics, /^process_resident_memory_bytes [1-9]\d+$/m);
});

test('the docker CLI works against berthd: version and info', async (t) => {
  const paths = daemonDirs(t);
  const fg = runBerthd(paths);
  await waitForPing(paths, fg);
  const env = { ...process.env, DOCKER_HOST: `unix://${paths.socket}`, DOCKER_CONFIG: join(paths.root, '..', 'docker-config') };
  const version = (await run('docker', ['version', '--format', '{{json .Server}}'], { env })).stdout;
  const server = JSON.parse(version) as { Version: string; ApiVersion: string; Os: string };
  assert.equal(server.Version, VERSION);
  assert.equal(server.ApiVersion, API_VERSION);
  assert.equal(server.Os, 'linux');
  const info = (await run('docker', ['info'], { env })).stdout;
  assert.match(info, new RegExp(`Server Version: ${VERSION.replace(/\./g, '\\.')}`));
  assert.ok(info.includes(`Docker Root Dir: ${paths.root}`), info);
  assert.match(info, /Cgroup Driver: cgroupfs/);
});

test('a second daemon for the same run root is refused, naming the one that runs; so is one for the same socket', async (t) => {
  const paths = daemonDirs(t);
  const first = runBerthd(paths);
  const client = await waitForPing(paths, first);
  const second = runBerthd(paths);
  const exit = await second.exited;
  assert.equal(exit.code, 1);
  assert.match(second.output(), new RegExp(`berthd already runs for ${paths.runRoot} \\(pid ${first.child.pid}\\)`));
  // Another run root, the same socket: the lock does not see it, the live socket does.
  const other = runBerthd({ ...paths, runRoot: join(paths.runRoot, '..', 'run2') }, []);
  const otherExit = await other.exited;
  assert.equal(otherExit.code, 1);
  assert.match(other.output(), /another daemon answers on it/);
  assert.equal(await client.ping(), true, 'the first still answers');
  assert.equal(lockHolder(paths.lock), first.child.pid);
});

test('a stale socket (its daemon killed) is replaced by the next daemon', async (t) => {
  const paths = daemonDirs(t);
  const first = runBerthd(paths);
  await waitForPing(paths, first);
  first.child.kill('SIGKILL');
  await first.exited;
  assert.ok(statSync(paths.socket).isSocket(), 'kill -9 left the socket file');
  const second = runBerthd(paths);
  await waitForPing(paths, second);
  assert.equal(lockHolder(paths.lock), second.child.pid);
  assert.equal(statSync(paths.socket).mode & 0o777, 0o660);
});

test('SIGTERM stops berthd cleanly: exit 0, socket removed, the lock free', async (t) => {
  const paths = daemonDirs(t);
  const fg = runBerthd(paths);
  await waitForPing(paths, fg);
  fg.child.kill('SIGTERM');
  const exit = await fg.exited;
  assert.deepEqual(exit, { code: 0, signal: null });
  assert.equal(existsSync(paths.socket), false);
  assert.equal(await daemonHoldsLock(paths), false);
  assert.match(fg.output(), /"msg":"berthd stopped"/);
});

test('ensureDaemon from three commands at once starts exactly one berthd', async (t) => {
  const paths = daemonDirs(t);
  const children = [0, 1, 2].map(() => {
    const child = spawn(process.execPath, [join(REPO, 'test/helpers/ensure-daemon-child.ts'), paths.root, paths.runRoot, JSON.stringify(BERTHD_COMMAND)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    return new Promise<{ code: number | null; out: string }>((resolve) => child.once('exit', (code) => resolve({ code, out })));
  });
  const results = await Promise.all(children);
  for (const r of results) {
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /^PING true$/m);
  }
  const notices = results.flatMap((r) => r.out.split('\n').filter((l) => l.startsWith('NOTICE ')));
  assert.deepEqual(notices, [`NOTICE berth: started berthd (log: ${paths.log})`]);
  const holder = lockHolder(paths.lock);
  assert.ok(holder !== undefined && alive(holder));
  // The ones that lost the lock leave; one berthd stays.
  await until('one berthd for the run root', () => berthdPids(paths.runRoot).length === 1);
  assert.deepEqual(berthdPids(paths.runRoot), [holder]);
  assert.match(readFileSync(paths.log, 'utf8'), /"msg":"berthd started"/);
});

test('berth system stop stops berthd and leaves nothing answering; stopping again says it is not running', async (t) => {
  const paths = daemonDirs(t);
  const client = await ensureDaemon({ ...paths, command: BERTHD_COMMAND, notice: () => {} });
  const pid = lockHolder(paths.lock);
  assert.ok(pid !== undefined);
  const [cmd = '', ...args] = BERTH_COMMAND;
  const globals = ['--root', paths.root, '--run-root', paths.runRoot];
  const stopped = await run(cmd, [...args, ...globals, 'system', 'stop']);
  assert.match(stopped.stderr, new RegExp(`berthd \\(pid ${pid}\\) stopped; containers keep running`));
  assert.equal(alive(pid), false);
  assert.equal(await client.ping(), false);
  assert.equal(existsSync(paths.socket), false);
  await assert.rejects(run(cmd, [...args, ...globals, 'system', 'stop']), (err: { code?: number; stderr?: string }) => err.code === 1 && /berthd is not running: nothing answers on/.test(err.stderr ?? ''));
});

test('berth system info asks the running berthd', async (t) => {
  const paths = daemonDirs(t);
  const fg = runBerthd(paths);
  await waitForPing(paths, fg);
  const [cmd = '', ...args] = BERTH_COMMAND;
  const out = (await run(cmd, [...args, '--root', paths.root, '--run-root', paths.runRoot, 'system', 'info', '--json'])).stdout;
  const info = JSON.parse(out) as Record<string, unknown>;
  assert.equal(info['DockerRootDir'], paths.root);
});

test('after a kill -9 of berthd, ensureDaemon starts a new one (from the sources, by default, when run from them)', async (t) => {
  const paths = daemonDirs(t);
  const lines: string[] = [];
  await ensureDaemon({ ...paths, notice: (l) => lines.push(l) });
  const first = lockHolder(paths.lock);
  assert.ok(first !== undefined);
  process.kill(first, 'SIGKILL');
  await until('the killed berthd gone', () => !alive(first));
  const client = await ensureDaemon({ ...paths, notice: (l) => lines.push(l) });
  const second = lockHolder(paths.lock);
  assert.ok(second !== undefined && second !== first);
  assert.equal(await client.ping(), true);
  assert.deepEqual(lines, [`berth: started berthd (log: ${paths.log})\n`, `berth: started berthd (log: ${paths.log})\n`]);
});

test('a berthd that cannot start: ensureDaemon fails quoting the end of its log', async (t) => {
  const paths = daemonDirs(t);
  const failing = [process.execPath, '-e', 'console.error("berthd: cannot open the store: disk on fire"); process.exit(3)', '--'];
  await assert.rejects(
    ensureDaemon({ ...paths, command: failing, notice: () => {} }),
    (err) => isBerthError(err, 'daemon_start_failed') && err.message.includes('exited with 3') && err.message.includes(paths.log) && err.message.includes('disk on fire'),
  );
});

test('berthd refuses a bad flag or log level with exit 2, naming it, and creates nothing', async (t) => {
  const paths = daemonDirs(t);
  const [cmd = '', ...args] = BERTHD_COMMAND;
  for (const [extra, said] of [[['--bogus'], /^berthd: Unknown option '--bogus' \(see 'berthd --help'\)\n$/], [['--log-level', 'loud'], /^berthd: --log-level: "loud" is not one of debug, info, warn, error\n$/]] as const) {
    await assert.rejects(
      run(cmd, [...args, '--root', paths.root, '--run-root', paths.runRoot, ...extra]),
      (err: { code?: number; stderr?: string }) => err.code === 2 && said.test(err.stderr ?? ''),
    );
  }
  assert.equal(existsSync(paths.root), false);
  assert.equal(existsSync(paths.runRoot), false);
});

test('--group gives the socket to a group (dockerd\'s -G); a group that does not exist is refused', async (t) => {
  const paths = daemonDirs(t);
  const gid = groupId('daemon');
  assert.ok(gid !== undefined, 'Debian has the daemon group');
  const fg = runBerthd(paths, ['--group', 'daemon']);
  await waitForPing(paths, fg);
  const st = statSync(paths.socket);
  assert.equal(st.gid, gid);
  assert.equal(st.mode & 0o777, 0o660);
  fg.child.kill('SIGTERM');
  await fg.exited;
  const bad = runBerthd(paths, ['--group', 'no-such-group']);
  assert.equal((await bad.exited).code, 2);
  assert.match(bad.output(), /--group: no group "no-such-group" in \/etc\/group/);
});

test('--api tcp://127.0.0.1:PORT serves the same API on TCP as well, with a warning in the log; a bad address is refused naming it', async (t) => {
  const paths = daemonDirs(t);
  const free = createServer();
  await new Promise<void>((resolve) => free.listen(0, '127.0.0.1', () => resolve()));
  const port = (free.address() as AddressInfo).port;
  await new Promise<void>((resolve) => free.close(() => resolve()));
  const fg = runBerthd(paths, ['--api', `tcp://127.0.0.1:${port}`]);
  await waitForPing(paths, fg);
  const ping = await fetch(`http://127.0.0.1:${port}/_ping`);
  assert.equal(ping.status, 200);
  assert.equal(await ping.text(), 'OK');
  assert.equal(ping.headers.get('api-version'), API_VERSION);
  const version = (await (await fetch(`http://127.0.0.1:${port}/v1.41/version`)).json()) as { ApiVersion: string };
  assert.equal(version.ApiVersion, API_VERSION);
  assert.match(fg.output(), new RegExp(`"level":"warn".*whoever reaches it is root on this host.*tcp://127\\.0\\.0\\.1:${port}`));
  fg.child.kill('SIGTERM');
  await fg.exited;
  await assert.rejects(fetch(`http://127.0.0.1:${port}/_ping`), 'the TCP listener closes with berthd');
  const [cmd = '', ...args] = BERTHD_COMMAND;
  await assert.rejects(
    run(cmd, [...args, '--root', paths.root, '--run-root', paths.runRoot, '--api', 'tcp://example:2375']),
    (err: { code?: number; stderr?: string }) => err.code === 2 && /--api "tcp:\/\/example:2375": not tcp:\/\/ADDRESS:PORT/.test(err.stderr ?? ''),
  );
});

test('a command asks at once: with no berthd it starts one and sends the request again; with one, no ping comes first', async (t) => {
  const paths = daemonDirs(t);
  const notices: string[] = [];
  const options = { ...paths, command: BERTHD_COMMAND, logLevel: 'debug' as const, notice: (l: string) => notices.push(l) };
  // Nothing listens yet: the request starts berthd, once, and is answered.
  const created = (await new OnDemandClient(options).json('POST', '/volumes/create', { body: { Name: 'asked-once' } })) as { Name?: string };
  assert.equal(created.Name, 'asked-once');
  assert.deepEqual(notices, [`berth: started berthd (log: ${paths.log})\n`]);
  const pings = (): number => readFileSync(paths.log, 'utf8').split('\n').filter((l) => l.includes('"msg":"request"') && l.includes('"/_ping"')).length;
  const before = pings();
  const volumes = (await new OnDemandClient(options).json('GET', '/volumes')) as { Volumes: { Name: string }[] };
  assert.deepEqual(volumes.Volumes.map((v) => v.Name), ['asked-once']);
  assert.equal(pings(), before, 'a running berthd gets the request alone');
  assert.equal(notices.length, 1);
});

test('berth system service takes berthd\'s flags: the gateway and its async and primed limits; a bad value exits naming the flag', async (t) => {
  const paths = daemonDirs(t);
  const [cmd = '', ...args] = BERTH_COMMAND;
  const global = ['--root', paths.root, '--run-root', paths.runRoot, '--socket', paths.socket];
  const bad = await run(cmd, [...args, ...global, 'system', 'service', '--gateway', 'off', '--faas-primed-max', 'lots']).then(
    () => assert.fail('a bad --faas-primed-max was taken'),
    (err: { code: number; stderr: string }) => err,
  );
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /--faas-primed-max "lots": not a number of functions/);
  const service = spawn(cmd, [...args, ...global, 'system', 'service', '--log-level', 'debug', '--gateway', '127.0.0.1:0', '--async-max-inflight', '3', '--async-function-max-inflight', '1', '--faas-primed-max', '5'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  service.stderr.on('data', (c: Buffer) => (log += c.toString()));
  const exited = new Promise<number | null>((resolve) => service.once('exit', (code) => resolve(code)));
  t.after(() => service.kill('SIGKILL'));
  const client = await waitForPing(paths);
  assert.equal((await client.request('GET', '/_ping')).status, 200);
  await until('the gateway to listen', () => log.includes('"gateway listening"'), 30_000);
  service.kill('SIGTERM');
  assert.equal(await exited, 0, log);
});
