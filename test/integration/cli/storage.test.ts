/**
 * Volumes, mounts and disk through the real command line and a real
 * berthd, as root: -v (named volume, bind mount, :ro), --mount, the
 * volume commands, rm -v, and system info/df/prune, observed inside the
 * container and on disk.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { show, startDaemon, type TestDaemon } from '../../helpers/daemon.ts';

let d: TestDaemon;
before(async () => {
  d = await startDaemon();
});
after(async () => {
  await d?.stop();
});

async function mountpoint(volume: string): Promise<string> {
  return (await d.ok(['volume', 'inspect', '-f', '{{.Mountpoint}}', volume])).trim();
}

test('-v NAME:/path: a named volume is made, kept across containers, and lies on disk', async () => {
  const w = await d.berth(['run', '--rm', '-v', 'shared:/data', 'busybox', 'sh', '-c', 'echo kept > /data/file']);
  assert.equal(w.code, 0, show(w));
  const r = await d.berth(['run', '--rm', '-v', 'shared:/data', 'busybox', 'cat', '/data/file']);
  assert.equal(r.stdout, 'kept\n', show(r));
  assert.equal(readFileSync(join(await mountpoint('shared'), 'file'), 'utf8'), 'kept\n');
  const ro = await d.berth(['run', '--rm', '-v', 'shared:/data:ro', 'busybox', 'sh', '-c', 'cat /data/file; echo x > /data/other']);
  assert.notEqual(ro.code, 0);
  assert.match(ro.stdout, /^kept\n/);
  assert.match(ro.stderr, /Read-only file system/, show(ro));
});

test('-v /host:/path binds a host directory both ways; :ro refuses writes', async () => {
  const dir = join(d.scratch, 'bind');
  mkdirSync(dir);
  writeFileSync(join(dir, 'from-host'), 'host says hi\n');
  const r = await d.berth(['run', '--rm', '-v', `${dir}:/mnt/b`, 'busybox', 'sh', '-c', 'cat /mnt/b/from-host; echo back > /mnt/b/from-container']);
  assert.equal(r.stdout, 'host says hi\n', show(r));
  assert.equal(readFileSync(join(dir, 'from-container'), 'utf8'), 'back\n');
  const ro = await d.berth(['run', '--rm', '-v', `${dir}:/mnt/b:ro`, 'busybox', 'sh', '-c', 'echo no > /mnt/b/refused']);
  assert.notEqual(ro.code, 0);
  assert.match(ro.stderr, /Read-only file system/, show(ro));
  assert.equal(existsSync(join(dir, 'refused')), false);
  const missing = await d.berth(['run', '--rm', '-v', `${join(d.scratch, 'not-there')}:/x`, 'busybox', 'true']);
  assert.equal(missing.code, 125, show(missing));
  assert.match(missing.stderr, /not-there/);
});

test('--mount type=bind,readonly and type=volume', async () => {
  const dir = join(d.scratch, 'mount');
  mkdirSync(dir);
  writeFileSync(join(dir, 'f'), 'via --mount\n');
  const r = await d.berth(['run', '--rm', '--mount', `type=bind,source=${dir},target=/m,readonly`, '--mount', 'type=volume,src=mounted,dst=/v', 'busybox', 'sh', '-c', 'cat /m/f; touch /m/g 2>/dev/null || echo bind-ro; echo in-vol > /v/f']);
  assert.equal(r.stdout, 'via --mount\nbind-ro\n', show(r));
  assert.equal(readFileSync(join(await mountpoint('mounted'), 'f'), 'utf8'), 'in-vol\n');
});

test('volume create/ls/inspect/rm/prune; a volume in use is kept', async () => {
  assert.equal(await d.ok(['volume', 'create', '--label', 'team=a', 'made']), 'made\n');
  assert.match(await d.ok(['volume', 'ls', '-q']), /^made$/m);
  assert.equal((await d.ok(['volume', 'ls', '--filter', 'label=team=a', '--format', '{{.Name}}'])).trim(), 'made');
  const info = JSON.parse(await d.ok(['volume', 'inspect', 'made'])) as { Name: string; Labels: Record<string, string>; Mountpoint: string }[];
  assert.equal(info[0]!.Name, 'made');
  assert.deepEqual(info[0]!.Labels, { team: 'a' });
  assert.ok(existsSync(info[0]!.Mountpoint));

  const user = (await d.ok(['create', '-v', 'made:/x', 'busybox', 'true'])).trim();
  const inUse = await d.berth(['volume', 'rm', 'made']);
  assert.notEqual(inUse.code, 0);
  assert.match(inUse.stderr, /made/, show(inUse));
  assert.ok(existsSync(info[0]!.Mountpoint));
  await d.ok(['rm', user]);
  assert.equal(await d.ok(['volume', 'rm', 'made']), 'made\n');
  assert.equal(existsSync(info[0]!.Mountpoint), false);
  const gone = await d.berth(['volume', 'inspect', 'made']);
  assert.notEqual(gone.code, 0);

  await d.ok(['volume', 'create', 'unused']);
  await d.ok(['volume', 'create', 'still-used']);
  const holder = (await d.ok(['create', '-v', 'still-used:/x', 'busybox', 'true'])).trim();
  const pruned = await d.ok(['volume', 'prune', '--all', '--force']);
  assert.match(pruned, /unused/);
  assert.doesNotMatch(pruned, /still-used/);
  assert.match(await d.ok(['volume', 'ls', '-q']), /^still-used$/m);
  await d.ok(['rm', holder]);
});

test('rm -v removes the container\'s anonymous volumes, not its named ones', async () => {
  const id = (await d.ok(['create', '-v', '/anon', '-v', 'named-kept:/named', 'busybox', 'true'])).trim();
  const mounts = JSON.parse(await d.ok(['inspect', '-f', '{{json .Mounts}}', id])) as { Name: string; Destination: string }[];
  const anon = mounts.find((m) => m.Destination === '/anon')!.Name;
  assert.match(anon, /^[0-9a-f]{64}$/);
  const anonPath = await mountpoint(anon);
  await d.ok(['rm', '-v', id]);
  assert.equal(existsSync(anonPath), false);
  assert.equal((await d.berth(['volume', 'inspect', anon])).code === 0, false);
  assert.equal(await d.ok(['volume', 'inspect', '-f', '{{.Name}}', 'named-kept']), 'named-kept\n');
});

test('system info, df and prune', async () => {
  const info = await d.ok(['system', 'info']);
  assert.match(info, new RegExp(`Root Dir: ${d.root}`));
  assert.match(info, /Images: 1/);
  const stopped = (await d.ok(['create', '--name', 'to-prune', 'busybox', 'true'])).trim();
  const running = (await d.ok(['run', '-d', 'busybox', 'sleep', '300'])).trim();
  const df = await d.ok(['system', 'df']);
  assert.match(df, /^Containers\s+2\s+1\s/m, df);
  assert.match(df, /^Images\s+1\s+1\s/m);
  const pruned = await d.ok(['system', 'prune', '--force']);
  assert.match(pruned, new RegExp(stopped));
  assert.equal((await d.berth(['inspect', 'to-prune'])).code, 1);
  assert.equal((await d.ok(['inspect', '-f', '{{.State.Running}}', running])).trim(), 'true');
  await d.ok(['rm', '-f', running]);
});
