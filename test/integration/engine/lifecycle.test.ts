/**
 * The engine library end to end, as root: a container from busybox is
 * created, started, writes its log, exits with its code, and is removed
 * with everything it was made of.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { readLog } from '../../../src/engine/monitor/log-reader.ts';
import { parseRunOptions } from '../../../src/engine/spec/options.ts';
import { testEngine, type TestEngine } from '../../helpers/engine.ts';

let te: TestEngine;
before(async () => {
  te = await testEngine();
});
after(async () => {
  await te?.cleanup();
});

async function logText(path: string): Promise<string> {
  let out = '';
  for await (const r of readLog(path, { maxFiles: 3 })) out += r.bytes.toString() + (r.partial ? '' : '\n');
  return out;
}

test('run to exit: output in the log, exit code kept, removal leaves nothing', async () => {
  const { engine } = te;
  const c = await engine.create({ image: 'busybox', args: ['sh', '-c', 'echo hello from $(hostname); exit 3'], options: parseRunOptions({ network: 'none', name: 'life-1' }) });
  assert.equal(c.state, 'created');
  const view = engine.view('life-1');
  assert.ok(existsSync(view.paths.config));
  await engine.start('life-1');
  const exit = await engine.wait('life-1');
  assert.equal(exit.code, 3);
  assert.equal(engine.view('life-1').record.state, 'exited');
  assert.equal(await logText(view.paths.log), `hello from ${c.id.slice(0, 12)}\n`);
  await engine.remove('life-1');
  assert.equal(existsSync(view.paths.dir), false);
  assert.equal(existsSync(view.paths.runDir), false);
  assert.throws(() => engine.find('life-1'), /not found|no such/i);
  assert.doesNotMatch(readFileSync('/proc/self/mountinfo', 'utf8'), new RegExp(c.id));
});

test('stop sends the stop signal, then SIGKILL after the timeout', async () => {
  const { engine } = te;
  await engine.create({ image: 'busybox', args: ['sh', '-c', 'trap "" TERM; while :; do sleep 1; done'], options: parseRunOptions({ network: 'none', name: 'life-2' }) });
  await engine.start('life-2');
  const stopped = await engine.stop('life-2', { timeout: 1 });
  assert.equal(stopped.state, 'exited');
  assert.equal(stopped.exitCode, 137);
  assert.equal(stopped.stoppedByUser, true);
  await engine.remove('life-2');
});

test('--rm removes the container at its exit', async () => {
  const { engine } = te;
  const c = await engine.create({ image: 'busybox', args: ['true'], options: parseRunOptions({ network: 'none', name: 'life-3', rm: true }) });
  await engine.start(c.id);
  const exit = await engine.wait(c.id, 'removed');
  assert.equal(exit.code, 0);
  assert.equal(engine.containers.get(c.id), undefined);
});
