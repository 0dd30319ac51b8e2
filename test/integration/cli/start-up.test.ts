/**
 * What the container commands load to start, through the real command line
 * and a real berthd (BERTH_TRACE_MODULES=1, see scripts/launcher.ts): a
 * short command talks HTTP to berthd and nothing more, so none loads the FFI
 * (koffi's native addon), the image store (SQLite, crypto), child_process or
 * worker threads. Each was on every command's path once, through one static
 * import each.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { show, startDaemon, type TestDaemon } from '../../helpers/daemon.ts';

let d: TestDaemon;
before(async () => {
  d = await startDaemon();
});
after(async () => {
  await d?.stop();
});

const HEAVY = ['crypto', 'sqlite', 'child_process', 'worker_threads', 'readline', 'zlib'];

async function loaded(args: string[]): Promise<{ builtins: string[]; addons: string[]; stdout: string }> {
  const r = await d.berth(args, { env: { ...process.env, BERTH_TRACE_MODULES: '1' } });
  const line = /^\[berth\] loaded (.*)$/m.exec(r.stderr);
  assert.ok(line, show(r));
  return { ...(JSON.parse(line[1]!) as { builtins: string[]; addons: string[] }), stdout: r.stdout };
}

test('ps, run --rm, kill, rm and logs load no FFI, store, process or thread module', async () => {
  const ran = await loaded(['run', '--rm', '--network', 'none', 'busybox', 'echo', 'lean']);
  assert.equal(ran.stdout, 'lean\n');
  const id = (await d.ok(['run', '-d', '--network', 'none', 'busybox', 'sleep', '300'])).trim();
  const runs = [ran, await loaded(['ps', '-aq']), await loaded(['logs', id]), await loaded(['kill', id]), await loaded(['rm', '-f', id])];
  for (const r of runs) {
    assert.ok(r.builtins.includes('http'), r.builtins.join(' '));
    assert.deepEqual(r.builtins.filter((b) => HEAVY.includes(b)), []);
    assert.deepEqual(r.addons, []);
  }
});
