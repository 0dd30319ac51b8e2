/**
 * The reading commands through the real command line and a real berthd,
 * as root: ps -a/-q/--filter/--format, logs -f/--since/--until/--tail/-t,
 * inspect, top, stats --no-stream, port, events (a run's create, start,
 * die, destroy), container prune.
 */
import assert from 'node:assert/strict';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { show, startDaemon, until, type TestDaemon } from '../../helpers/daemon.ts';

let d: TestDaemon;
before(async () => {
  d = await startDaemon();
});
after(async () => {
  await d?.stop();
});

test('ps lists running containers, -a all, -q IDs, --filter and --format select and shape', async () => {
  const up = (await d.ok(['run', '-d', '--name', 'ps-up', '--label', 'role=db', 'busybox', 'sleep', '300'])).trim();
  const made = (await d.ok(['create', '--name', 'ps-made', 'busybox', 'true'])).trim();
  const table = await d.ok(['ps']);
  assert.match(table, /^CONTAINER ID\s+IMAGE\s+COMMAND\s+CREATED\s+STATUS\s+PORTS\s+NAMES\n/);
  assert.match(table, new RegExp(`^${up.slice(0, 12)}\\s+busybox\\s+"sleep 300"\\s.*Up .*ps-up$`, 'm'));
  assert.doesNotMatch(table, /ps-made/);
  assert.match(await d.ok(['ps', '-a']), new RegExp(`^${made.slice(0, 12)}\\s.*Created\\s+ps-made$`, 'm'));
  assert.deepEqual((await d.ok(['ps', '-a', '-q'])).trim().split('\n').sort(), [up.slice(0, 12), made.slice(0, 12)].sort());
  assert.equal(await d.ok(['ps', '-a', '--filter', 'status=created', '--format', '{{.Names}}']), 'ps-made\n');
  assert.equal(await d.ok(['ps', '--filter', 'label=role=db', '--format', '{{.ID}} {{.Image}} {{.Label "role"}}']), `${up.slice(0, 12)} busybox db\n`);
  assert.equal(await d.ok(['ps', '-a', '--filter', 'name=nothing-like-it', '-q']), '');
  const bad = await d.berth(['ps', '--filter', 'colour=blue']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /colour/);
  await d.ok(['rm', '-f', up, made]);
});

test('inspect shows the container as docker does; a missing one fails naming it', async () => {
  const id = (await d.ok(['create', '--name', 'insp', '-e', 'A=1', '-w', '/srv', 'busybox', 'echo', 'x'])).trim();
  const [c] = JSON.parse(await d.ok(['inspect', 'insp'])) as { Id: string; Name: string; Path: string; Args: string[]; Config: { Env: string[]; WorkingDir: string; Image: string }; State: { Status: string } }[];
  assert.equal(c!.Id, id);
  assert.equal(c!.Name, '/insp');
  assert.equal(c!.Path, 'echo');
  assert.deepEqual(c!.Args, ['x']);
  assert.ok(c!.Config.Env.includes('A=1'));
  assert.equal(c!.Config.WorkingDir, '/srv');
  assert.equal(c!.State.Status, 'created');
  const r = await d.berth(['inspect', 'insp', 'ghost']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /ghost/);
  await d.ok(['rm', id]);
});

test('logs: stdout and stderr apart, --tail, -t, --since/--until, -f follows to the exit', async () => {
  await d.ok(['run', '-d', '--name', 'talker', 'busybox', 'sh', '-c', 'echo early; echo err-line >&2; sleep 0.5; echo late']);
  assert.equal(await d.ok(['wait', 'talker']), '0\n');
  const all = await d.berth(['logs', 'talker']);
  assert.equal(all.stdout, 'early\nlate\n', show(all));
  assert.equal(all.stderr, 'err-line\n');
  assert.equal((await d.berth(['logs', '--tail', '1', 'talker'])).stdout, 'late\n');
  const stamped = await d.ok(['logs', '-t', 'talker']);
  const m = /^(\S+) early\n(\S+) late\n$/.exec(stamped);
  assert.ok(m, stamped);
  const [early, late] = [Date.parse(m[1]!), Date.parse(m[2]!)];
  assert.ok(late - early >= 400, `${m[1]} then ${m[2]}`);
  const mid = ((early + late) / 2 / 1000).toFixed(3);
  assert.equal((await d.berth(['logs', '--since', mid, 'talker'])).stdout, 'late\n');
  assert.equal((await d.berth(['logs', '--until', mid, 'talker'])).stdout, 'early\n');

  await d.ok(['run', '-d', '--name', 'follow', 'busybox', 'sh', '-c', 'echo first; while [ ! -e /tmp/go ]; do sleep 0.05; done; echo second']);
  const f = d.spawn(['logs', '-f', 'follow']);
  let out = '';
  f.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<number | null>((r) => f.on('close', r));
  await until('logs -f to show the first line', () => (out.includes('first\n') ? true : undefined));
  await d.ok(['exec', 'follow', 'touch', '/tmp/go']);
  // It ends by itself when the container exits, having shown what came after it began.
  assert.equal(await exited, 0);
  assert.equal(out, 'first\nsecond\n');
  await d.ok(['rm', 'talker', 'follow']);
});

test('--log-opt max-size and max-file rotate the container\'s log; logs reads the files kept; inspect shows the LogConfig; others are refused', async () => {
  const id = (await d.ok(['run', '-d', '--log-driver', 'json-file', '--log-opt', 'max-size=4k', '--log-opt', 'max-file=2', 'busybox', 'sh', '-c', 'i=0; while [ $i -lt 400 ]; do echo "line-$i-xxxxxxxxxxxxxxxxxxxxxxxx"; i=$((i+1)); done'])).trim();
  assert.equal(await d.ok(['wait', id]), '0\n');
  const dir = join(d.root, 'containers', id);
  const files = readdirSync(dir).filter((f) => f.startsWith('ctr.log')).sort();
  assert.deepEqual(files, ['ctr.log', 'ctr.log.1'], 'two files kept, the oldest dropped');
  for (const f of files) assert.ok(statSync(join(dir, f)).size <= 4096, `${f} within max-size`);
  const lines = (await d.ok(['logs', id])).trimEnd().split('\n');
  assert.equal(lines.at(-1), 'line-399-xxxxxxxxxxxxxxxxxxxxxxxx');
  const first = Number(/^line-(\d+)-/.exec(lines[0]!)?.[1]);
  assert.ok(first > 0 && lines.every((l, i) => l === `line-${first + i}-xxxxxxxxxxxxxxxxxxxxxxxx`), 'the newest lines, in order, none missing between');
  assert.equal((await d.ok(['inspect', '--format', '{{json .HostConfig.LogConfig}}', id])).trim(), '{"Type":"json-file","Config":{"max-file":"2","max-size":"4096"}}');
  await d.ok(['rm', id]);
  const bad = await d.berth(['run', '--rm', '--log-opt', 'compress=true', 'busybox', 'true']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /--log-opt "compress=true": .*"compress" is not supported/);
  const driver = await d.berth(['run', '--rm', '--log-driver', 'syslog', 'busybox', 'true']);
  assert.match(driver.stderr, /--log-driver "syslog": berth keeps logs in files/);
});

test('top lists the container\'s processes; stats --no-stream prints one sample; port shows none published', async () => {
  const id = (await d.ok(['run', '-d', '--name', 'busy', '--memory', '64m', 'busybox', 'sh', '-c', 'sleep 301 & sleep 302'])).trim();
  await until('both sleeps to run', async () => ((await d.ok(['top', 'busy'])).includes('sleep 302') ? true : undefined));
  const top = await d.ok(['top', 'busy']);
  assert.match(top, /^UID\s+PID\s+PPID\s+C\s+STIME\s+TTY\s+TIME\s+CMD\n/);
  assert.match(top, /sleep 301/);
  assert.match(top, /sleep 302/);
  const stats = await d.ok(['stats', '--no-stream', 'busy']);
  const [head, row] = stats.trim().split('\n');
  assert.match(head!, /^CONTAINER ID\s+NAME\s+CPU %\s+MEM USAGE \/ LIMIT\s+MEM %\s+NET I\/O\s+BLOCK I\/O\s+PIDS$/);
  assert.match(row!, new RegExp(`^${id.slice(0, 12)}\\s+busy\\s+\\d+\\.\\d+%\\s+[\\d.]+[KMG]?i?B / 64MiB\\s.*\\s(\\d+)$`), stats);
  assert.ok(Number(/(\d+)$/.exec(row!)![1]) >= 2, 'both sleeps counted');
  assert.equal((await d.ok(['stats', '--no-stream', '--format', '{{.Name}} {{.PIDs}}', 'busy'])).trim().split(' ')[0], 'busy');
  assert.equal(await d.ok(['port', 'busy']), '');
  const one = await d.berth(['port', 'busy', '80']);
  assert.equal(one.code, 1);
  assert.match(one.stderr, /80\/tcp/);
  await d.ok(['rm', '-f', id]);
});

test('events: a run --rm produces create, start, die and destroy; container prune removes only the stopped', async () => {
  const ev = d.spawn(['events', '--filter', 'type=container', '--format', '{{.Action}} {{.Actor.Attributes.name}}']);
  let out = '';
  ev.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  const closed = new Promise((r) => ev.on('close', r));
  try {
    // The stream is open once it shows an event: a first container says so.
    await until('events to stream', async () => {
      await d.ok(['run', '--rm', 'busybox', 'true']);
      return out.includes('destroy') ? true : undefined;
    });
    out = '';
    await d.ok(['run', '--rm', '--name', 'evented', 'busybox', 'true']);
    await until('the destroy event', () => (out.includes('destroy evented') ? true : undefined));
    const actions = out.trim().split('\n').filter((l) => l.endsWith(' evented')).map((l) => l.split(' ')[0]);
    for (const a of ['create', 'start', 'die', 'destroy']) assert.ok(actions.includes(a), `${a} in ${actions.join(',')}`);
    assert.ok(actions.indexOf('create') < actions.indexOf('start') && actions.indexOf('die') < actions.indexOf('destroy'), actions.join(','));
  } finally {
    ev.kill('SIGTERM');
    await closed;
  }

  const stopped = (await d.ok(['create', '--name', 'prunable', 'busybox', 'true'])).trim();
  const running = (await d.ok(['run', '-d', 'busybox', 'sleep', '300'])).trim();
  const pruned = await d.ok(['container', 'prune', '--force']);
  assert.match(pruned, new RegExp(`Deleted Containers:\\n${stopped}\\n`));
  assert.deepEqual((await d.ok(['ps', '-a', '-q', '--no-trunc'])).trim().split('\n'), [running]);
  await d.ok(['rm', '-f', running]);
});
