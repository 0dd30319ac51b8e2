/**
 * startMonitor's hand-over of an exec's attachment, with a stand-in
 * monitor (a shell script): no root, no runtime.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { attachSocket } from '../../../../src/engine/monitor/attach.ts';
import { monitorArgs, startMonitor } from '../../../../src/engine/monitor/spawn.ts';

test('an exec that is over before the report comes still hands over its whole output (berth exec hung now and then)', { timeout: 10_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-spawn-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // The process's output, then its end (the monitor gone), and only then the report: as a loaded machine orders them.
  const monitor = join(dir, 'monitor');
  writeFileSync(monitor, "#!/bin/sh\nprintf '\\001\\000\\000\\000\\000\\000\\000\\003hi\\n' >&4\nexec 4>&-\nsleep 0.3\necho 'pid 11 12' >&3\n");
  chmodSync(monitor, 0o755);
  const started = await startMonitor({ runtime: '/nonexistent', root: dir, id: 'x', runDir: dir, exec: { processFile: join(dir, 'p.json'), attach: true }, monitor });
  assert.equal(started.pid, 11);
  assert.ok(started.socket);
  let stdout = '';
  const attached = attachSocket(started.socket, (stream, b) => {
    if (stream === 'stdout') stdout += b.toString();
  });
  assert.equal(await attached.closed, undefined);
  assert.equal(stdout, 'hi\n');
});

test('monitorArgs: the held client on fd 4, or on 6 beside the executor\'s sync socket and plan; an exec\'s exit unsynced when asked', () => {
  const common = { id: 'c', runDir: '/r' };
  const viaRuntime = monitorArgs({ ...common, runtime: '/rt', root: '/root', exec: { processFile: '/p.json', attach: true }, noSync: true });
  assert.deepEqual(viaRuntime.slice(viaRuntime.indexOf('--report-fd')), ['--report-fd', '3', '--attach-fd', '4', '--no-sync']);
  const viaExecutor = monitorArgs({ ...common, executor: '/exec', attach: true, stdin: true, stdinOnce: true, noSync: true });
  assert.deepEqual(viaExecutor, ['--executor', '/exec', '--id', 'c', '--run-dir', '/r', '--report-fd', '3', '--attach-fd', '6', '--stdin', '--stdin-once', '--no-sync']);
  const container = monitorArgs({ ...common, executor: '/exec', log: { path: '/l', maxSize: 1, maxFiles: 2, lineMax: 3 } });
  assert.equal(container.includes('--attach-fd'), false);
  assert.equal(container.includes('--no-sync'), false, 'synced unless asked');
});
