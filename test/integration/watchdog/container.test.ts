/**
 * berth-watchdog as the process of a busybox container run by berthd (as
 * root): bind-mounted read-only, it is the container's pid 1 (static: the
 * image needs no libc of the right kind), answers a shell function over the
 * container's address, reaps the orphans its function leaves, and a stop
 * (SIGTERM) ends it with status 0.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startDaemon, type TestDaemon } from '../../helpers/daemon.ts';
import { request, until, WATCHDOG } from './watchdog.ts';

let d: TestDaemon;
let fnDir: string;

before(async () => {
  d = await startDaemon();
  fnDir = mkdtempSync(join('/var/tmp', 'berth-wd-fn-'));
  // Leaves an orphan behind on every call (setsid: out of the function's process group, so not killed with it).
  writeFileSync(join(fnDir, 'fn.sh'), 'setsid sh -c "sleep 0.05" &\nwc -c\n');
});
after(async () => {
  await d?.stop();
  if (fnDir) rmSync(fnDir, { recursive: true, force: true });
});

test('the watchdog is pid 1 of a busybox container, serves a shell function on its address, reaps orphans and stops with 0', async () => {
  const id = (await d.ok([
    'run', '-d', '--name', 'wd-fn',
    '-v', `${WATCHDOG}:/usr/bin/berth-watchdog:ro`, '-v', `${fnDir}:/fn:ro`,
    '-e', 'fprocess=sh /fn/fn.sh', '-e', 'exec_timeout=5s',
    '--entrypoint', '/usr/bin/berth-watchdog', 'busybox',
  ])).trim();
  try {
    const ip = (await d.ok(['inspect', '--format', '{{.NetworkSettings.IPAddress}}', id])).trim();
    assert.match(ip, /^\d+\.\d+\.\d+\.\d+$/);
    const viaIp = (path: string, body?: string): Promise<{ status: number; body: string }> => request(8080, path, body === undefined ? { host: ip } : { host: ip, body });
    await until('the watchdog to be healthy', async () => ((await viaIp('/_/health').catch(() => undefined))?.status === 200 ? true : undefined), 20_000);
    for (let i = 0; i < 20; i++) {
      const r = await viaIp('/', 'x'.repeat(i * 100));
      assert.equal(r.status, 200);
      assert.equal(r.body.trim(), String(i * 100));
    }
    const pid1 = await d.ok(['exec', id, 'cat', '/proc/1/cmdline']);
    assert.equal(pid1.replace(/\0/g, ' ').trim(), '/usr/bin/berth-watchdog');
    assert.equal((await d.ok(['exec', id, 'sh', '-c', 'test -f /tmp/.lock && echo locked'])).trim(), 'locked');
    await until('no zombie left in the container', async () => {
      const states = await d.ok(['exec', id, 'sh', '-c', 'cat /proc/[0-9]*/stat 2>/dev/null | sed "s/^.*) //" | cut -c1']);
      return states.split('\n').includes('Z') ? undefined : true;
    });
    await d.ok(['stop', '-t', '10', id]);
    const state = (await d.ok(['inspect', '--format', '{{.State.Status}} {{.State.ExitCode}}', id])).trim();
    assert.equal(state, 'exited 0');
    // The watchdog logs to stderr: its request lines and the drain.
    const logs = await d.berth(['logs', id]);
    assert.match(logs.stderr, /POST \/ 200 [\d.]+ms/);
    assert.match(logs.stderr, /SIGTERM: draining/);
  } finally {
    await d.berth(['rm', '-f', id]);
  }
});
