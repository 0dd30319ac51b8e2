/**
 * The CNI protocol as berth speaks it, against fake plugins (small Node
 * scripts that log what they were given and answer as told): the
 * environment, stdin, prevResult chaining, DEL in reverse going on past a
 * failure, error objects, time limits, garbage on stdout.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { addChain, checkChain, delChain, parseConflist, type ChainContext } from '../../../src/network/cni/chain.ts';
import type { Conflist } from '../../../src/network/cni/conflist.ts';
import { execPlugin } from '../../../src/network/cni/exec.ts';
import { isBerthError } from '../../../src/errors.ts';
import { onCleanup } from '../../helpers/cleanup.ts';

const FAKE = `#!${process.execPath}
const fs = require('node:fs');
const conf = JSON.parse(fs.readFileSync(0, 'utf8'));
const me = require('node:path').basename(process.argv[1]);
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('CNI_')));
fs.appendFileSync(conf.log, JSON.stringify({ me, env, conf }) + '\\n');
const act = (conf.act || {})[me + ':' + env.CNI_COMMAND] || (conf.act || {})[me] || 'ok';
if (act === 'fail') { process.stdout.write(JSON.stringify({ cniVersion: '1.0.0', code: 11, msg: me + ' broke', details: 'the details' })); process.exit(1); }
if (act === 'crash') { process.stderr.write('panic: ' + me); process.exit(2); }
if (act === 'hang') setTimeout(() => {}, 60000);
else if (act === 'garbage') process.stdout.write('not json');
else if (env.CNI_COMMAND === 'ADD') {
  const prev = conf.prevResult || { cniVersion: '1.0.0', interfaces: [], ips: [], routes: [] };
  prev.interfaces.push({ name: me, sandbox: env.CNI_NETNS });
  if (prev.ips.length === 0) prev.ips.push({ address: '10.9.0.2/24', gateway: '10.9.0.1', interface: 0 });
  process.stdout.write(JSON.stringify(prev));
}
`;

interface Fakes {
  dir: string;
  log: string;
  calls(): { me: string; env: Record<string, string>; conf: Record<string, unknown> }[];
}

function fakes(t: TestContext, names: string[]): Fakes {
  const dir = mkdtempSync(join(tmpdir(), 'berth-cni-'));
  onCleanup(t, () => rmSync(dir, { recursive: true, force: true }));
  for (const n of names) {
    writeFileSync(join(dir, n), FAKE);
    chmodSync(join(dir, n), 0o755);
  }
  const log = join(dir, 'calls.log');
  writeFileSync(log, '');
  return {
    dir,
    log,
    calls: () =>
      readFileSync(log, 'utf8')
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as { me: string; env: Record<string, string>; conf: Record<string, unknown> }),
  };
}

const ctx = (f: Fakes, timeoutMs = 10_000): ChainContext => ({ pluginDir: f.dir, containerId: 'c'.repeat(64), netns: '/run/x/netns/c', ifname: 'eth0', networkName: 'web', timeoutMs });

const list = (f: Fakes, act: Record<string, string> = {}): Conflist => ({
  cniVersion: '1.0.0',
  name: 'net1',
  plugins: [
    { type: 'one', log: f.log, act, capabilities: { portMappings: true } },
    { type: 'two', log: f.log, act },
    { type: 'three', log: f.log, act, capabilities: { mac: true } },
  ],
});

test('ADD runs each plugin in order with the CNI environment, the capability args it declares and the previous result', async (t) => {
  const f = fakes(t, ['one', 'two', 'three']);
  const result = await addChain(ctx(f), list(f), { portMappings: [{ hostPort: 1, containerPort: 2, protocol: 'tcp' }], mac: '02:00:00:00:00:09' });
  assert.deepEqual(
    result.interfaces.map((i) => i.name),
    ['one', 'two', 'three'],
  );
  const calls = f.calls();
  assert.deepEqual(
    calls.map((c) => c.me),
    ['one', 'two', 'three'],
  );
  assert.deepEqual(calls[0]!.env, { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c'.repeat(64), CNI_NETNS: '/run/x/netns/c', CNI_IFNAME: 'eth0', CNI_PATH: f.dir });
  assert.equal(calls[0]!.conf['name'], 'net1');
  assert.equal(calls[0]!.conf['cniVersion'], '1.0.0');
  assert.equal(calls[0]!.conf['prevResult'], undefined);
  assert.deepEqual(calls[0]!.conf['runtimeConfig'], { portMappings: [{ hostPort: 1, containerPort: 2, protocol: 'tcp' }] });
  assert.equal(calls[1]!.conf['runtimeConfig'], undefined);
  assert.deepEqual((calls[1]!.conf['prevResult'] as { interfaces: { name: string }[] }).interfaces.map((i) => i.name), ['one']);
  assert.deepEqual(calls[2]!.conf['runtimeConfig'], { mac: '02:00:00:00:00:09' });

  await checkChain(ctx(f), list(f), {}, result);
  assert.deepEqual(f.calls().slice(3).map((c) => [c.me, c.env['CNI_COMMAND'], (c.conf['prevResult'] as { interfaces: unknown[] }).interfaces.length]), [
    ['one', 'CHECK', 3],
    ['two', 'CHECK', 3],
    ['three', 'CHECK', 3],
  ]);
});

test('DEL runs in reverse with the final result and goes on past a failing plugin, then throws its error', async (t) => {
  const f = fakes(t, ['one', 'two', 'three']);
  const result = await addChain(ctx(f), list(f), {});
  await assert.rejects(delChain(ctx(f), list(f, { 'two:DEL': 'fail' }), {}, result), (e: unknown) => {
    assert.ok(isBerthError(e, 'cni_plugin_failed'));
    assert.equal(e.message, 'network "web": CNI plugin "two" DEL failed: two broke: the details (CNI error 11)');
    assert.equal(e.details['cniCode'], 11);
    return true;
  });
  const dels = f.calls().filter((c) => c.env['CNI_COMMAND'] === 'DEL');
  assert.deepEqual(
    dels.map((c) => c.me),
    ['three', 'two', 'one'],
  );
  for (const d of dels) assert.deepEqual(d.conf['prevResult'], result);
  await delChain(ctx(f), list(f), {}, undefined);
  assert.equal(f.calls().at(-1)!.conf['prevResult'], undefined, 'no result: no prevResult');
});

test('an ADD that fails stops the chain with an error naming the plugin and the network', async (t) => {
  const f = fakes(t, ['one', 'two', 'three']);
  await assert.rejects(addChain(ctx(f), list(f, { two: 'fail' }), {}), /network "web": CNI plugin "two" ADD failed: two broke/);
  assert.deepEqual(
    f.calls().map((c) => c.me),
    ['one', 'two'],
  );
});

test('a crash, garbage on stdout, a hang past the time limit and a missing plugin are named', async (t) => {
  const f = fakes(t, ['one']);
  const conf = (act: string): Record<string, unknown> => ({ type: 'one', log: f.log, act: { one: act }, cniVersion: '1.0.0', name: 'n' });
  const call = (act: string, timeoutMs = 10_000, type = 'one'): Promise<unknown> =>
    execPlugin({ ...ctx(f, timeoutMs), type, command: 'ADD', config: conf(act) });
  await assert.rejects(call('crash'), (e: unknown) => isBerthError(e, 'cni_plugin_failed') && e.message.includes('(exit 2): panic: one'));
  await assert.rejects(call('garbage'), (e: unknown) => isBerthError(e, 'cni_result_invalid') && e.message.includes('not JSON'));
  await assert.rejects(call('hang', 1500), (e: unknown) => isBerthError(e, 'cni_plugin_timeout') && e.message.includes('within 1500 ms'));
  await assert.rejects(call('ok', 10_000, 'nothere'), (e: unknown) => isBerthError(e, 'cni_plugin_missing') && e.message.includes('"nothere"'));
  await assert.rejects(call('ok', 10_000, '../one'), (e: unknown) => isBerthError(e, 'cni_plugin_failed') && e.message.includes('not a CNI plugin name'));
});

test('a stored conflist is checked before it runs again', () => {
  assert.deepEqual(parseConflist({ cniVersion: '1.0.0', name: 'n', plugins: [{ type: 'bridge' }] }).plugins, [{ type: 'bridge' }]);
  assert.throws(() => parseConflist({ cniVersion: '1.0.0', name: 'n', plugins: [{}] }), /plugins\[0\] has no type/);
  assert.throws(() => parseConflist(null), /not an object/);
});
