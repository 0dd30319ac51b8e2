import assert from 'node:assert/strict';
import { test } from 'node:test';
import { containerSide, parseErrorBody, parseResult } from '../../../src/network/cni/result.ts';
import { isBerthError } from '../../../src/errors.ts';

const bridgeResult = {
  cniVersion: '1.0.0',
  interfaces: [{ name: 'br0', mac: '02:00:00:00:00:01' }, { name: 'veth1', mac: '02:00:00:00:00:02' }, { name: 'eth0', mac: '02:00:00:00:00:03', sandbox: '/run/x' }],
  ips: [{ address: '10.0.0.5/24', gateway: '10.0.0.1', interface: 2 }],
  routes: [{ dst: '0.0.0.0/0' }],
  dns: {},
};

test('a plugin result is checked and the container side found', () => {
  const r = parseResult('bridge', bridgeResult);
  assert.deepEqual(r.dns, {}, 'unread fields travel on');
  assert.deepEqual(containerSide(r, 'eth0'), { ipv4: '10.0.0.5/24', gateway: '10.0.0.1', mac: '02:00:00:00:00:03' });
  assert.equal(containerSide(r, 'eth1'), undefined);
  assert.deepEqual(parseResult('x', { cniVersion: '1.0.0' }), { cniVersion: '1.0.0', interfaces: [], ips: [], routes: [] });
});

test('a malformed result is an error naming the plugin and the field', () => {
  const bad = (v: unknown, what: string): void => {
    assert.throws(() => parseResult('bridge', v), (e: unknown) => isBerthError(e, 'cni_result_invalid') && e.message.includes('"bridge"') && e.message.includes(what));
  };
  bad(null, 'not a JSON object');
  bad([], 'not a JSON object');
  bad({}, 'cniVersion');
  bad({ cniVersion: '1.0.0', interfaces: {} }, 'interfaces is not an array');
  bad({ cniVersion: '1.0.0', interfaces: [{}] }, 'interfaces[0].name');
  bad({ cniVersion: '1.0.0', ips: [{ address: '10.0.0.5' }] }, 'not a CIDR');
  bad({ cniVersion: '1.0.0', ips: [{ address: '10.0.0.5/24', interface: 3 }] }, 'ips[0].interface');
  bad({ cniVersion: '1.0.0', routes: [{ dst: 5 }] }, 'routes[0].dst');
});

test('the error object of a failing plugin', () => {
  assert.deepEqual(parseErrorBody('{"cniVersion":"1.0.0","code":7,"msg":"bad","details":"more"}'), { code: 7, msg: 'bad', details: 'more' });
  assert.deepEqual(parseErrorBody('{"code":11,"msg":"x"}'), { code: 11, msg: 'x', details: '' });
  assert.equal(parseErrorBody('panic: oops'), undefined);
  assert.equal(parseErrorBody('{"msg":"no code"}'), undefined);
});
