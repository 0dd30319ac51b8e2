/**
 * The real docker CLI (28) against a private berthd, as root: the life of
 * containers made by `docker run`/`docker create` (Docker's create body,
 * attach before start, wait, the hijacked streams, a pty for -it), and
 * each run flag observed from inside the container. What berth does not
 * do is refused, naming the field, with the CLI's exit code 125.
 *
 * Most containers run with `--network none`: this file is about the
 * container endpoints; one test runs on the default network and publishes
 * a port (the network layer's own tests are test/integration/cli/networking).
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { rawConnection, until as untilTrue } from '../helpers/api.ts';
import { show, startDaemon, until, type TestDaemon } from '../helpers/daemon.ts';
import { DOCKER, docker as dockerWith, dockerEnv, dockerInTerminal, NO_DOCKER, SCRIPT } from '../helpers/docker-cli.ts';

const NET = ['--network', 'none'];
let d: TestDaemon;
before(async () => {
  if (NO_DOCKER === false) d = await startDaemon();
});
after(async () => {
  await d?.stop();
});

const docker = (args: readonly string[], input?: string): ReturnType<typeof dockerWith> => dockerWith(d, args, input === undefined ? {} : { input });

async function ok(args: readonly string[]): Promise<string> {
  const r = await docker(args);
  assert.equal(r.code, 0, `docker ${args.join(' ')}: ${show(r)}`);
  return r.stdout;
}

const inspect = async (format: string, name: string): Promise<string> => (await ok(['inspect', '-f', format, name])).trim();

test('docker run --rm: stdout and stderr apart, the exit code, and the container gone after', { skip: NO_DOCKER }, async () => {
  const r = await docker(['run', '--rm', ...NET, '--name', 'rm-me', 'busybox', 'sh', '-c', 'echo to-out; echo to-err >&2; exit 3']);
  assert.equal(r.code, 3, show(r));
  assert.equal(r.stdout, 'to-out\n');
  assert.equal(r.stderr, 'to-err\n');
  await until('the --rm container to be removed', async () => ((await ok(['ps', '-aq', '--filter', 'name=rm-me'])) === '' ? true : undefined));
});

test('docker run on the default network, with a port published on loopback: docker port, ps and a request from the host', { skip: NO_DOCKER }, async () => {
  const plain = await docker(['run', '--rm', 'busybox', 'echo', 'on-bridge']);
  assert.equal(plain.code, 0, show(plain));
  assert.equal(plain.stdout, 'on-bridge\n');
  await ok(['run', '-d', '--name', 'web', '-p', '127.0.0.1::8080', 'busybox', 'sh', '-c', 'mkdir /www; echo served > /www/index.html; exec httpd -f -p 8080 -h /www']);
  try {
    const port = (await ok(['port', 'web', '8080'])).trim();
    assert.match(port, /^127\.0\.0\.1:\d+$/);
    assert.equal(await ok(['ps', '--filter', 'name=web', '--format', '{{.Ports}} {{.Networks}}']), `${port}->8080/tcp bridge\n`);
    const body = await until('the published port to answer', async () => {
      try {
        return await (await fetch(`http://${port}/index.html`)).text();
      } catch {
        return undefined;
      }
    });
    assert.equal(body, 'served\n');
  } finally {
    await ok(['rm', '-f', 'web']);
  }
});

test('docker network create, ls, inspect, connect, disconnect and rm: a container connected to a user network reaches another there by name', { skip: NO_DOCKER }, async () => {
  await ok(['network', 'create', 'cli-net']);
  try {
    const ls = await ok(['network', 'ls', '--format', '{{.Name}} {{.Driver}}']);
    assert.match(ls, /^cli-net bridge$/m);
    assert.match(ls, /^bridge bridge$/m);
    assert.match((await ok(['network', 'inspect', '-f', '{{range .IPAM.Config}}{{.Subnet}}{{end}}', 'cli-net'])).trim(), /^\d+\.\d+\.\d+\.\d+\/\d+$/);
    await ok(['run', '-d', '--name', 'named-srv', '--network', 'cli-net', 'busybox', 'sh', '-c', 'mkdir /www; echo by-name > /www/index.html; exec httpd -f -p 80 -h /www']);
    await ok(['run', '-d', '--name', 'roamer', 'busybox', 'sleep', '300']);
    await ok(['network', 'connect', 'cli-net', 'roamer']);
    const networks = async (): Promise<string[]> => (await inspect('{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}', 'roamer')).split(' ').filter(Boolean).sort();
    assert.deepEqual(await networks(), ['bridge', 'cli-net']);
    const body = await until('named-srv to answer by name', async () => {
      const r = await docker(['exec', 'roamer', 'wget', '-qO-', 'http://named-srv/index.html']);
      return r.code === 0 ? r.stdout : undefined;
    });
    assert.equal(body, 'by-name\n');
    const inUse = await docker(['network', 'rm', 'cli-net']);
    assert.notEqual(inUse.code, 0, show(inUse));
    assert.match(inUse.stderr, /has active endpoints/);
    await ok(['network', 'disconnect', 'cli-net', 'roamer']);
    assert.deepEqual(await networks(), ['bridge']);
    const cut = await docker(['exec', 'roamer', 'wget', '-qO-', 'http://named-srv/index.html']);
    assert.notEqual(cut.code, 0, `disconnected, named-srv is not reached: ${show(cut)}`);
  } finally {
    await docker(['rm', '-f', 'named-srv', 'roamer']);
    await docker(['network', 'rm', 'cli-net']);
  }
  assert.doesNotMatch(await ok(['network', 'ls', '--format', '{{.Name}}']), /^cli-net$/m);
});

test('docker run -d, then logs -f follows to the exit; wait prints the exit code', { skip: NO_DOCKER }, async () => {
  const id = (await ok(['run', '-d', ...NET, '--name', 'follow', 'busybox', 'sh', '-c', 'for i in 1 2 3; do echo line$i; sleep 0.2; done; exit 6'])).trim();
  assert.match(id, /^[0-9a-f]{64}$/);
  const logs = await docker(['logs', '-f', 'follow']);
  assert.equal(logs.code, 0, show(logs));
  assert.equal(logs.stdout, 'line1\nline2\nline3\n');
  assert.equal((await ok(['wait', 'follow'])).trim(), '6');
  assert.equal(await inspect('{{.State.Status}} {{.State.ExitCode}}', id), 'exited 6');
});

test('docker run -it through a pty: the terminal\'s size, typing into sh and reading back, its exit code', { skip: NO_DOCKER || (SCRIPT === undefined ? 'no util-linux script for a pty' : false) }, async () => {
  // sh reads a line typed on the terminal (not an interactive prompt: busybox's asks the terminal for the cursor and waits).
  // `stty size` first: the terminal has the CLI's size from its creation (ConsoleSize), before any resize could come.
  const r = await dockerInTerminal(d, ['run', '-it', '--rm', ...NET, 'busybox', 'sh', '-c', 'stty size; tty; echo READY; read a b; echo typed-$((a*b)); exit 5'], [
    { after: /READY/, type: '6 7\r' },
  ]);
  assert.equal(r.code, 5, r.output);
  assert.match(r.output, /\/dev\/pts\/0/);
  assert.match(r.output, /typed-42\r\n/);
  assert.match(r.output, /^30 100\r\n/);
});

test('docker exec (-i, -it) and attach', { skip: NO_DOCKER || (SCRIPT === undefined ? 'no util-linux script for a pty' : false) }, async () => {
  await ok(['run', '-d', ...NET, '--name', 'ex', 'busybox', 'sh', '-c', 'i=0; while [ ! -f /go ]; do echo tick; sleep 0.2; done; echo done-out; exit 7']);
  const e = await docker(['exec', 'ex', 'sh', '-c', 'echo e-out; echo e-err >&2; exit 4']);
  assert.deepEqual([e.code, e.stdout, e.stderr], [4, 'e-out\n', 'e-err\n'], show(e));
  const piped = await docker(['exec', '-i', 'ex', 'sh', '-c', 'tr a-z A-Z'], 'from stdin\n');
  assert.equal(piped.stdout, 'FROM STDIN\n', show(piped));
  const it = await dockerInTerminal(d, ['exec', '-it', 'ex', 'sh', '-c', 'echo READY; read x; stty size; echo in-exec-$x; exit 9'], [{ after: /READY/, type: '5\r' }], { rows: 24, cols: 90 });
  assert.equal(it.code, 9, it.output);
  assert.match(it.output, /24 90\r\nin-exec-5\r\n/);

  const a = spawn(DOCKER!, ['attach', 'ex'], { env: dockerEnv(d), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  a.stdout.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<number | null>((resolve) => a.on('close', resolve));
  try {
    await until('docker attach to show the container\'s output', () => (out.includes('tick') ? true : undefined));
    await ok(['exec', 'ex', 'touch', '/go']);
    assert.equal(await exited, 7, out);
    assert.match(out, /tick\n(tick\n)*done-out\n$/);
  } finally {
    a.kill('SIGKILL');
  }
});

test('docker exec -u, -w, -e, -d; a missing program exits 127 and one that cannot run 126 (dockerd\'s codes); a paused or stopped container refuses exec', { skip: NO_DOCKER }, async () => {
  await ok(['run', '-d', ...NET, '--name', 'exopts', 'busybox', 'sleep', '600']);
  assert.equal(await ok(['exec', '-u', 'nobody', '-w', '/etc', '-e', 'GREETING=hi there', 'exopts', 'sh', '-c', 'echo "$(id -u) $(pwd) $GREETING"']), '65534 /etc hi there\n');
  assert.equal(await ok(['exec', '-d', 'exopts', 'sh', '-c', 'echo detached > /tmp/d']), '');
  await until('the detached exec\'s file', async () => ((await docker(['exec', 'exopts', 'cat', '/tmp/d'])).stdout === 'detached\n' ? true : undefined));
  const missing = await docker(['exec', 'exopts', 'no-such-program']);
  assert.equal(missing.code, 127, show(missing));
  assert.match(missing.stdout + missing.stderr, /no-such-program/);
  const notRunnable = await docker(['exec', 'exopts', '/etc/passwd']);
  assert.equal(notRunnable.code, 126, show(notRunnable));
  await ok(['pause', 'exopts']);
  const paused = await docker(['exec', 'exopts', 'true']);
  assert.notEqual(paused.code, 0);
  assert.match(paused.stderr, /paused/);
  await ok(['unpause', 'exopts']);
  await ok(['kill', 'exopts']);
  const stopped = await docker(['exec', 'exopts', 'true']);
  assert.notEqual(stopped.code, 0);
  assert.match(stopped.stderr, /not running/);
  await ok(['rm', 'exopts']);
});

test('docker stop, kill, restart, rm -f', { skip: NO_DOCKER }, async () => {
  await ok(['run', '-d', ...NET, '--name', 'life', 'busybox', 'sh', '-c', 'trap "echo got-term; exit 4" TERM; echo started; while :; do sleep 0.1; done']);
  await until('the trap to be set', async () => ((await ok(['logs', 'life'])).includes('started') ? true : undefined));
  assert.equal((await ok(['stop', 'life'])).trim(), 'life');
  assert.equal(await inspect('{{.State.Status}} {{.State.ExitCode}}', 'life'), 'exited 4');
  assert.match(await ok(['logs', 'life']), /got-term/);

  const startedBefore = await inspect('{{.State.StartedAt}}', 'life');
  await ok(['restart', '-t', '5', 'life']);
  assert.equal(await inspect('{{.State.Status}}', 'life'), 'running');
  assert.notEqual(await inspect('{{.State.StartedAt}}', 'life'), startedBefore);

  assert.equal((await ok(['kill', 'life'])).trim(), 'life');
  assert.equal(await inspect('{{.State.Status}} {{.State.ExitCode}}', 'life'), 'exited 137');
  const again = await docker(['kill', 'life']);
  assert.notEqual(again.code, 0);
  assert.match(again.stderr, /is not running/);

  await ok(['start', 'life']);
  assert.equal((await ok(['rm', '-f', 'life'])).trim(), 'life');
  const gone = await docker(['inspect', 'life']);
  assert.notEqual(gone.code, 0);
  assert.match(gone.stderr, /life/);
});

test('docker cp both ways, diff and export', { skip: NO_DOCKER }, async () => {
  await ok(['run', '-d', ...NET, '--name', 'files', 'busybox', 'sh', '-c', 'echo inside > /made; rm /etc/group; sleep 1000']);
  await until('the container to write its file', async () => ((await docker(['exec', 'files', 'cat', '/made'])).stdout === 'inside\n' ? true : undefined));
  const host = join(d.scratch, 'cp');
  mkdirSync(host);
  writeFileSync(join(host, 'in.txt'), 'from-host\n');
  await ok(['cp', join(host, 'in.txt'), 'files:/tmp/']);
  assert.equal(await ok(['exec', 'files', 'cat', '/tmp/in.txt']), 'from-host\n');
  await ok(['cp', 'files:/made', join(host, 'out.txt')]);
  assert.equal(readFileSync(join(host, 'out.txt'), 'utf8'), 'inside\n');

  // As docker lists them: what the container changed, without the places berth mounted on.
  const diff = (await ok(['diff', 'files'])).trim().split('\n');
  assert.deepEqual(diff, ['C /etc', 'D /etc/group', 'A /made', 'C /tmp', 'A /tmp/in.txt']);

  await ok(['export', '-o', join(host, 'rootfs.tar'), 'files']);
  const names = execFileSync('tar', ['-tf', join(host, 'rootfs.tar')]).toString().split('\n');
  for (const want of ['./bin/busybox', './made', './tmp/in.txt']) assert.ok(names.includes(want), `${want} in the export`);
  assert.ok(!names.includes('./etc/group'));
  await ok(['rm', '-f', 'files']);
});

test('docker stats --no-stream, top, inspect and ps -a --format json', { skip: NO_DOCKER }, async () => {
  await ok(['run', '-d', ...NET, '--name', 'seen', '--label', 'team=berth', 'busybox', 'sleep', '1000']);
  const stats = await ok(['stats', '--no-stream', '--format', '{{.Name}} {{.PIDs}}', 'seen']);
  assert.equal(stats, 'seen 1\n');
  const top = await ok(['top', 'seen']);
  assert.match(top, /^UID\s+PID\s+PPID\s+C\s+STIME\s+TTY\s+TIME\s+CMD\n.*sleep 1000\n$/);
  const [c] = JSON.parse(await ok(['inspect', 'seen'])) as Record<string, unknown>[];
  const config = c!['Config'] as Record<string, unknown>;
  const state = c!['State'] as Record<string, unknown>;
  assert.equal(c!['Name'], '/seen');
  assert.deepEqual(config['Cmd'], ['sleep', '1000']);
  assert.deepEqual(config['Labels'], { team: 'berth' });
  assert.equal(state['Status'], 'running');
  assert.equal((c!['HostConfig'] as Record<string, unknown>)['NetworkMode'], 'none');
  // Every HostConfig field a client may read, as dockerd lists them; these as the container has them.
  assert.equal(await inspect('{{.HostConfig.Privileged}} {{.HostConfig.IpcMode}} {{.HostConfig.ShmSize}} {{.HostConfig.Runtime}}', 'seen'), 'false private 67108864 berth-runtime');
  assert.match(await ok(['exec', 'seen', 'df', '-k', '/dev/shm']), /\s65536\s/);
  assert.ok(Number(await inspect('{{len .HostConfig.MaskedPaths}}', 'seen')) > 0);
  const rows = (await ok(['ps', '-a', '--no-trunc', '--format', '{{json .}}'])).trim().split('\n').map((l) => JSON.parse(l) as Record<string, string>);
  const row = rows.find((r) => r['Names'] === 'seen');
  assert.ok(row !== undefined, JSON.stringify(rows));
  assert.equal(row['ID'], c!['Id']);
  assert.equal(row['Image'], 'busybox');
  assert.equal(row['State'], 'running');
  assert.equal(row['Labels'], 'team=berth');
  assert.equal(row['Command'], '"sleep 1000"');
  assert.match(row['Status']!, /^Up /);
  assert.match(await ok(['ps', '-s', '--filter', 'name=seen', '--format', '{{.Size}}']), /^\d+(\.\d+)?[kMG]?B \(virtual \d+(\.\d+)?[kMG]?B\)\n$/);
  const [rw = '', rootfs = ''] = (await ok(['inspect', '-s', '-f', '{{.SizeRw}} {{.SizeRootFs}}', 'seen'])).trim().split(' ');
  assert.ok(Number(rw) >= 0 && Number(rootfs) > Number(rw), `SizeRw ${rw}, SizeRootFs ${rootfs}`);
  await ok(['rm', '-f', 'seen']);
});

test('docker events bounded by --since/--until, with a filter', { skip: NO_DOCKER }, async () => {
  const since = Math.floor(Date.now() / 1000) - 1;
  await ok(['run', '--rm', ...NET, '--name', 'evented', 'busybox', 'true']);
  await until('the --rm container to be removed', async () => ((await ok(['ps', '-aq', '--filter', 'name=evented'])) === '' ? true : undefined));
  const until_ = Math.floor(Date.now() / 1000) + 1;
  const r = await docker(['events', '--since', String(since), '--until', String(until_), '--filter', 'container=evented', '--format', '{{.Type}} {{.Action}} {{.Actor.Attributes.name}}']);
  assert.equal(r.code, 0, show(r));
  const actions = r.stdout.trim().split('\n');
  for (const want of ['container create evented', 'container attach evented', 'container start evented', 'container die evented', 'container destroy evented']) {
    assert.ok(actions.includes(want), `${want} in ${JSON.stringify(actions)}`);
  }
  assert.ok(actions.indexOf('container create evented') < actions.indexOf('container start evented'));
  // Filters of what berth has no part in are taken (as dockerd takes them) and match nothing.
  const none = await docker(['events', '--since', String(since), '--until', String(until_), '--filter', 'service=web']);
  assert.equal(none.code, 0, show(none));
  assert.equal(none.stdout, '');
});

test('docker system df, container prune, volume create/ls/rm', { skip: NO_DOCKER }, async () => {
  await ok(['create', ...NET, '--name', 'prunable', 'busybox', 'true']);
  await ok(['run', '-d', ...NET, '--name', 'keeper', 'busybox', 'sleep', '1000']);
  const df = await ok(['system', 'df', '--format', '{{.Type}} {{.TotalCount}}']);
  assert.match(df, /^Images 1\nContainers \d+\nLocal Volumes \d+\nBuild Cache 0\n$/);
  const prune = await ok(['container', 'prune', '-f']);
  assert.match(prune, /Deleted Containers:\n/);
  const left = (await ok(['ps', '-a', '--format', '{{.Names}}'])).trim().split('\n');
  assert.ok(left.includes('keeper'));
  assert.ok(!left.includes('prunable'));
  await ok(['rm', '-f', 'keeper']);

  assert.equal((await ok(['volume', 'create', '--label', 'k=v', 'vol1'])).trim(), 'vol1');
  assert.match(await ok(['volume', 'ls', '--format', '{{.Driver}} {{.Name}}']), /^local vol1$/m);
  await ok(['run', '--rm', ...NET, '-v', 'vol1:/data', 'busybox', 'sh', '-c', 'echo kept > /data/f']);
  assert.equal(await ok(['run', '--rm', ...NET, '-v', 'vol1:/data:ro', 'busybox', 'cat', '/data/f']), 'kept\n');
  assert.equal((await ok(['volume', 'rm', 'vol1'])).trim(), 'vol1');
  assert.doesNotMatch(await ok(['volume', 'ls', '-q']), /vol1/);
});

test('run -e -v -w -u --name --label --read-only --cap-drop --init --memory --cpus: each seen from inside', { skip: NO_DOCKER }, async () => {
  const host = join(d.scratch, 'bind');
  mkdirSync(host, { recursive: true });
  const cgroupFiles = ['memory/memory.limit_in_bytes', 'cpu/cpu.cfs_quota_us', 'memory.max', 'cpu.max'];
  const probe = [
    'echo env=$GREETING',
    'echo pwd=$(pwd)',
    'echo id=$(id -u):$(id -g)',
    'echo hostdir > /work/from-inside',
    'touch /rootfs-file 2>/dev/null && echo rootfs=rw || echo rootfs=ro',
    'echo caps=$(grep CapEff /proc/self/status | cut -f2)',
    'echo pid1=$(cat /proc/1/cmdline | tr "\\0" " ")',
    ...cgroupFiles.map((f) => `[ -f /sys/fs/cgroup/${f} ] && echo "${f}=$(cat /sys/fs/cgroup/${f})"`),
    'true',
  ].join('; ');
  const r = await docker(['run', '--rm', ...NET, '--name', 'flags', '-e', 'GREETING=hello', '-v', `${host}:/work`, '-w', '/work', '-u', '0:0',
    '--read-only', '--cap-drop', 'ALL', '--init', '--memory', '64m', '--cpus', '0.5', 'busybox', 'sh', '-c', probe]);
  assert.equal(r.code, 0, show(r));
  const v = Object.fromEntries(r.stdout.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
  assert.equal(v['env'], 'hello');
  assert.equal(v['pwd'], '/work');
  assert.equal(v['id'], '0:0');
  assert.equal(readFileSync(join(host, 'from-inside'), 'utf8'), 'hostdir\n');
  assert.equal(v['rootfs'], 'ro');
  assert.equal(v['caps'], '0000000000000000');
  assert.match(v['pid1']!, /^\/sbin\/berth-init -- sh -c /);
  if (v['memory.max'] !== undefined) {
    assert.equal(v['memory.max'], '67108864');
    assert.equal(v['cpu.max'], '50000 100000');
  } else {
    assert.equal(v['memory/memory.limit_in_bytes'], '67108864', show(r));
    assert.equal(v['cpu/cpu.cfs_quota_us'], '50000');
  }
  // --cpu-period/--cpu-quota: the CFS pair as given (not folded into NanoCpus), in the cgroup and in inspect.
  await ok(['run', '-d', ...NET, '--name', 'cfs', '--cpu-period', '50000', '--cpu-quota', '25000', 'busybox', 'sleep', '1000']);
  assert.equal(await inspect('{{.HostConfig.CpuPeriod}} {{.HostConfig.CpuQuota}} {{.HostConfig.NanoCpus}}', 'cfs'), '50000 25000 0');
  const cfs = await ok(['exec', 'cfs', 'sh', '-c', 'cat /sys/fs/cgroup/cpu.max 2>/dev/null || echo "$(cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us) $(cat /sys/fs/cgroup/cpu/cpu.cfs_period_us)"']);
  assert.equal(cfs, '25000 50000\n');
  await ok(['rm', '-f', 'cfs']);
  const user = await docker(['run', '--rm', ...NET, '-u', '1234:5678', 'busybox', 'id']);
  assert.match(user.stdout, /^uid=1234 gid=5678\b/, show(user));
});

test('run --label, --restart and --health-cmd: seen by inspect as the engine keeps them', { skip: NO_DOCKER }, async () => {
  await ok(['run', '-d', ...NET, '--name', 'kept', '--label', 'a=b', '--restart', 'on-failure:5', 'busybox', 'sh', '-c', 'sleep 0.3; exit 1']);
  assert.equal(await inspect('{{.Config.Labels.a}} {{.HostConfig.RestartPolicy.Name}}:{{.HostConfig.RestartPolicy.MaximumRetryCount}}', 'kept'), 'b on-failure:5');
  // The policy acts: the container that fails is started again.
  await until('a restart by the on-failure policy', async () => (Number(await inspect('{{.RestartCount}}', 'kept')) >= 1 ? true : undefined));
  await ok(['rm', '-f', 'kept']);

  await ok(['run', '-d', ...NET, '--name', 'checked', '--health-cmd', 'test -f /ready', '--health-interval', '200ms', '--health-retries', '1', 'busybox', 'sh', '-c', 'sleep 1000']);
  await until('the health check to fail', async () => ((await inspect('{{.State.Health.Status}}', 'checked')) === 'unhealthy' ? true : undefined));
  await ok(['exec', 'checked', 'touch', '/ready']);
  await until('the health check to pass', async () => ((await inspect('{{.State.Health.Status}}', 'checked')) === 'healthy' ? true : undefined));
  await ok(['rm', '-f', 'checked']);
});

test('what berth does not do is refused, naming the field, before anything is made', { skip: NO_DOCKER }, async () => {
  const cases: [string[], RegExp][] = [
    [['--privileged'], /HostConfig.Privileged is not supported/],
    [['--device', '/dev/null'], /HostConfig.Devices is not supported/],
    [['--log-driver', 'syslog'], /HostConfig.LogConfig.Type "syslog": berth keeps logs in files/],
    [['--log-opt', 'compress=true'], /HostConfig.LogConfig.Config "compress=true": .*"compress" is not supported/],
    [['--shm-size', '1g'], /HostConfig.ShmSize is not supported/],
    [['--pid', 'host'], /HostConfig.PidMode "host" is not supported/],
    [['--memory', '1k'], /HostConfig.Memory "1024": the minimum memory limit is 6m/],
  ];
  for (const [flags, message] of cases) {
    const r = await docker(['run', '--rm', ...NET, '--name', 'refused', ...flags, 'busybox', 'true']);
    assert.equal(r.code, 125, `${flags.join(' ')}: ${show(r)}`);
    assert.match(r.stderr, message);
  }
  assert.equal(await ok(['ps', '-aq', '--filter', 'name=refused']), '');
  await ok(['create', ...NET, '--name', 'taken', 'busybox', 'true']);
  const twice = await d.client.request('POST', '/containers/create', { query: { name: 'taken' }, body: { Image: 'busybox', HostConfig: { NetworkMode: 'none' } } });
  assert.equal(twice.status, 409, twice.body.toString());
  assert.match((JSON.parse(twice.body.toString()) as { message: string }).message, /^container name "taken": already in use by container [0-9a-f]{12}/);
  await ok(['rm', 'taken']);
  const arm = await docker(['create', '--platform', 'linux/s390x', ...NET, 'busybox', 'true']);
  assert.notEqual(arm.code, 0);
  assert.match(arm.stderr, /query parameter "platform" "linux\/s390x" is not supported/);
  const missing = await docker(['create', '--pull', 'never', ...NET, 'no-such-image']);
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /No such image: no-such-image:latest/);
});

test('exec start whose body arrives after its head: the typing that follows still reaches the process (docker exec -it lost it)', { skip: NO_DOCKER }, async () => {
  await ok(['run', '-d', ...NET, '--name', 'typed', 'busybox', 'sleep', '1000']);
  const created = JSON.parse((await d.client.request('POST', '/containers/typed/exec', { body: { AttachStdin: true, AttachStdout: true, Tty: true, Cmd: ['sh', '-c', 'echo READY; read x; echo got-$x'] } })).body.toString()) as { Id: string };
  const body = JSON.stringify({ Detach: false, Tty: true });
  // The head alone first, as the docker CLI's writes sometimes reach the daemon: the body is read off the socket by itself.
  const c = rawConnection(d.socket, `POST /v1.50/exec/${created.Id}/start HTTP/1.1\r\nHost: berth\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`);
  try {
    await new Promise((resolve) => setTimeout(resolve, 50));
    c.sock.write(body);
    await untilTrue('the exec to start', () => c.received().toString().includes('READY'));
    c.sock.write('typed\r');
    await untilTrue('the typed line to come back', () => c.received().toString().includes('got-typed'));
  } finally {
    c.sock.destroy();
    await ok(['rm', '-f', 'typed']);
  }
});

test('resizing a container that does not run is 409 as with dockerd, and resizes a running one\'s terminal', { skip: NO_DOCKER }, async () => {
  await ok(['create', ...NET, '-t', '--name', 'sized', 'busybox', 'sh', '-c', 'while :; do stty size; sleep 0.1; done']);
  const early = await d.client.request('POST', '/containers/sized/resize', { query: { h: 40, w: 120 } });
  assert.equal(early.status, 409, early.body.toString());
  assert.match(early.body.toString(), /is not running/);
  await ok(['start', 'sized']);
  const r = await d.client.request('POST', '/containers/sized/resize', { query: { h: 40, w: 120 } });
  assert.equal(r.status, 200, r.body.toString());
  await until('the new size inside', async () => ((await ok(['logs', 'sized'])).includes('40 120') ? true : undefined));
  await ok(['rm', '-f', 'sized']);
});

test('docker update: new limits in the running container\'s cgroup and in inspect, the restart policy; what berth does not set refused by name', { skip: NO_DOCKER }, async () => {
  await ok(['run', '-d', ...NET, '--name', 'grown', '--memory', '64m', 'busybox', 'sleep', '1000']);
  assert.equal((await ok(['update', '--memory', '128m', '--memory-swap', '256m', '--pids-limit', '30', '--restart', 'on-failure:2', 'grown'])).trim(), 'grown');
  const limits = await ok(['exec', 'grown', 'sh', '-c', 'cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes; cat /sys/fs/cgroup/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids/pids.max']);
  assert.equal(limits, '134217728\n30\n');
  assert.equal(await inspect('{{.HostConfig.Memory}} {{.HostConfig.RestartPolicy.Name}}:{{.HostConfig.RestartPolicy.MaximumRetryCount}}', 'grown'), '134217728 on-failure:2');
  const refused = await docker(['update', '--cpu-rt-runtime', '5', 'grown']);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /CpuRealtimeRuntime is not supported/);
  await ok(['rm', '-f', 'grown']);
});
