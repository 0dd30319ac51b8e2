import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  parseEntrypoint, parseHostname, parseLabels, parseName, parsePull, parseRestart, parseRunOptions, parseUserFlag, parseWorkdir,
} from '../../../../src/engine/spec/options.ts';
import { throwsCode } from './helpers.ts';

test('no flags: docker\'s defaults (no restart, no network of its own yet, pull missing)', () => {
  const o = parseRunOptions({});
  assert.deepEqual(o, {
    env: [], mounts: [], readOnly: false,
    security: { capAdd: [], capDrop: [], seccomp: { kind: 'default' }, noNewPrivileges: false },
    resources: {}, rlimits: [], restart: { name: 'no' }, autoRemove: false, health: undefined, init: false, labels: {},
    network: 'bridge', ports: [], publishAll: false, expose: [], networkAliases: [], dns: [], dnsSearch: [], dnsOptions: [], extraHosts: [], pull: 'missing',
  });
});

test('every flag family reaches RunOptions', () => {
  const o = parseRunOptions({
    name: '/web.1', env: ['A=1', 'HOME_DIR'], envFile: [{ path: 'f', text: 'B=2' }], volume: ['/h:/x:ro'], tmpfs: ['/t'],
    workdir: '/srv', user: 'www:staff', entrypoint: '/bin/sh', hostname: 'web', readOnly: true, capAdd: ['sys_admin'], capDrop: ['net_raw'],
    securityOpt: ['no-new-privileges'], memory: '64m', cpus: '2', pidsLimit: '10', ulimit: ['nofile=10:20'], restart: 'on-failure:3',
    healthCmd: 'true', init: true, label: ['a=b', 'c'], stopSignal: 'SIGQUIT', stopTimeout: '30', network: 'host', pull: 'never',
  }, { HOME_DIR: '/root' });
  assert.equal(o.name, 'web.1');
  assert.deepEqual(o.env, ['B=2', 'A=1', 'HOME_DIR=/root']);
  assert.deepEqual(o.mounts.map((m) => `${m.type}:${m.target}`), ['bind:/x', 'tmpfs:/t']);
  assert.equal(o.workdir, '/srv');
  assert.equal(o.user, 'www:staff');
  assert.deepEqual(o.entrypoint, ['/bin/sh']);
  assert.equal(o.hostname, 'web');
  assert.equal(o.readOnly, true);
  assert.deepEqual(o.security, { capAdd: ['CAP_SYS_ADMIN'], capDrop: ['CAP_NET_RAW'], seccomp: { kind: 'default' }, noNewPrivileges: true });
  assert.deepEqual(o.resources, { memory: { limit: 64 * 2 ** 20, swap: 128 * 2 ** 20 }, cpu: { quota: 200000, period: 100000 }, pids: { limit: 10 } });
  assert.deepEqual(o.rlimits, [{ type: 'RLIMIT_NOFILE', soft: 10, hard: 20 }]);
  assert.deepEqual(o.restart, { name: 'on-failure', maxRetries: 3 });
  assert.deepEqual(o.health, { disabled: false, check: { Test: ['CMD-SHELL', 'true'] } });
  assert.equal(o.init, true);
  assert.deepEqual(o.labels, { a: 'b', c: '' });
  assert.equal(o.stopSignal, 3);
  assert.equal(o.stopTimeout, 30);
  assert.equal(o.network, 'host');
  assert.equal(o.pull, 'never');
});

test('--name: docker\'s rule', () => {
  assert.equal(parseName('a1'), 'a1');
  assert.equal(parseName('my_app-2.web'), 'my_app-2.web');
  for (const bad of ['a', '-web', '_web', 'web/1', 'wéb', 'a b', '']) throwsCode(() => parseName(bad), 'run_flag_invalid', /--name ".*": not a container name/);
});

test('--restart policies and their refusals', () => {
  assert.deepEqual(parseRestart('no'), { name: 'no' });
  assert.deepEqual(parseRestart('always'), { name: 'always' });
  assert.deepEqual(parseRestart('unless-stopped'), { name: 'unless-stopped' });
  assert.deepEqual(parseRestart('on-failure'), { name: 'on-failure', maxRetries: 0 });
  assert.deepEqual(parseRestart('on-failure:5'), { name: 'on-failure', maxRetries: 5 });
  throwsCode(() => parseRestart('always:3'), 'run_flag_invalid', /--restart "always:3": .*only for on-failure/);
  throwsCode(() => parseRestart('on-failure:x'), 'run_flag_invalid', /"x" is not a number of retries/);
  throwsCode(() => parseRestart('sometimes'), 'run_flag_invalid', /--restart "sometimes"/);
  throwsCode(() => parseRunOptions({ restart: 'always', rm: true }), 'run_flags_conflict', /--restart and --rm/);
  assert.equal(parseRunOptions({ restart: 'no', rm: true }).autoRemove, true);
});

test('--network: the default network unless none, host, container:X or a name says otherwise', () => {
  assert.equal(parseRunOptions({}).network, 'bridge');
  for (const n of ['none', 'host', 'container:web', 'mynet']) assert.equal(parseRunOptions({ network: n }).network, n);
  assert.equal(parseRunOptions({ network: 'default' }).network, 'bridge');
});

test('--pull, --entrypoint, --user, --workdir, --hostname, --label', () => {
  for (const p of ['missing', 'always', 'never'] as const) assert.equal(parsePull(p), p);
  throwsCode(() => parsePull('newer'), 'run_flag_invalid', /--pull "newer"/);
  assert.deepEqual(parseEntrypoint('/bin/sh -c'), ['/bin/sh -c'], 'docker: one program, not split');
  assert.deepEqual(parseEntrypoint(''), []);
  assert.deepEqual(parseEntrypoint('["/bin/sh","-c"]'), ['/bin/sh', '-c']);
  throwsCode(() => parseEntrypoint('[1]'), 'run_flag_invalid', /--entrypoint "\[1\]": not a JSON array of strings/);
  throwsCode(() => parseEntrypoint('[oops'), 'run_flag_invalid', /--entrypoint "\[oops"/);
  assert.equal(parseUserFlag('1000:1000'), '1000:1000');
  for (const bad of ['', ':', 'a:', ':g', 'a:b:c']) throwsCode(() => parseUserFlag(bad), 'run_flag_invalid', /--user ".*": not USER\[:GROUP\]/);
  throwsCode(() => parseWorkdir('srv'), 'run_flag_invalid', /--workdir "srv": not an absolute path/);
  assert.equal(parseHostname('web-1.local'), 'web-1.local');
  for (const bad of ['-web', 'a b', 'x'.repeat(65), 'web_1']) throwsCode(() => parseHostname(bad), 'run_flag_invalid', /--hostname/);
  throwsCode(() => parseLabels(['=v']), 'run_flag_invalid', /--label "=v": the key is empty/);
});

test('--stop-signal and --stop-timeout', () => {
  assert.equal(parseRunOptions({ stopSignal: 'term' }).stopSignal, 15);
  assert.equal(parseRunOptions({ stopSignal: '9' }).stopSignal, 9);
  assert.equal(parseRunOptions({ stopTimeout: '-1' }).stopTimeout, -1);
  throwsCode(() => parseRunOptions({ stopSignal: 'SIGNOPE' }), 'run_flag_invalid', /--stop-signal "SIGNOPE"/);
  throwsCode(() => parseRunOptions({ stopTimeout: '1.5' }), 'run_flag_invalid', /--stop-timeout "1\.5"/);
  throwsCode(() => parseRunOptions({ stopTimeout: '-2' }), 'run_flag_invalid', /--stop-timeout "-2"/);
});
