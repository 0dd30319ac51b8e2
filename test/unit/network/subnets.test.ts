import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isBerthError } from '../../../src/errors.ts';
import {
  allocateSubnet,
  checkSubnet,
  defaultSubnets,
  formatCidr,
  overlaps,
  parseCidr,
  parseFibTrieLocals,
  parseProcRoutes,
} from '../../../src/network/subnets.ts';

function refused(fn: () => unknown, code: string, ...parts: string[]): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(isBerthError(err, code), `expected ${code}, got ${String(err)}`);
    for (const p of parts) assert.ok(err.message.includes(p), `message ${JSON.stringify(err.message)} should name ${p}`);
    return true;
  });
}

test('parseCidr takes a network address and refuses a host address, naming the network one (as dockerd)', () => {
  assert.equal(formatCidr(parseCidr('10.1.0.0/16', 'subnet')), '10.1.0.0/16');
  assert.equal(formatCidr(parseCidr('192.168.5.4/30', 'subnet')), '192.168.5.4/30');
  refused(() => parseCidr('172.20.0.5/16', 'subnet'), 'network_subnet_invalid', '172.20.0.5/16', 'it should be 172.20.0.0/16');
});

test('parseCidr refuses what is not an IPv4 CIDR, naming the field and the value', () => {
  for (const bad of ['172.20.0.0', '172.20.0.0/33', '172.20.0/16', '300.1.1.0/24', '1.2.3.4/x', 'abc', '01.2.3.0/24', '']) {
    refused(() => parseCidr(bad, 'subnet'), 'network_subnet_invalid', 'subnet', JSON.stringify(bad));
  }
  refused(() => parseCidr('fd00::/64', 'ip-range'), 'network_subnet_invalid', 'ip-range', 'IPv6');
});

test('checkSubnet: the gateway defaults to the first host address; a given one must be inside and not the network or broadcast address', () => {
  assert.deepEqual(checkSubnet({ subnet: '10.9.0.0/24' }), { subnet: '10.9.0.0/24', gateway: '10.9.0.1' });
  assert.deepEqual(checkSubnet({ subnet: '10.9.0.0/24', gateway: '10.9.0.254', ipRange: '10.9.0.128/25' }), {
    subnet: '10.9.0.0/24',
    gateway: '10.9.0.254',
    ipRange: '10.9.0.128/25',
  });
  refused(() => checkSubnet({ subnet: '10.9.0.0/24', gateway: '10.9.1.1' }), 'network_gateway_invalid', '10.9.1.1', 'not inside subnet 10.9.0.0/24');
  refused(() => checkSubnet({ subnet: '10.9.0.0/24', gateway: '10.9.0.0' }), 'network_gateway_invalid', 'network address');
  refused(() => checkSubnet({ subnet: '10.9.0.0/24', gateway: '10.9.0.255' }), 'network_gateway_invalid', 'broadcast address');
  refused(() => checkSubnet({ subnet: '10.9.0.0/24', gateway: 'gw' }), 'network_gateway_invalid', '"gw"');
  refused(() => checkSubnet({ subnet: '10.9.0.0/24', ipRange: '10.9.1.0/25' }), 'network_subnet_invalid', 'ip-range 10.9.1.0/25', 'not inside');
  refused(() => checkSubnet({ subnet: '10.9.0.0/24', ipRange: '10.8.0.0/16' }), 'network_subnet_invalid', 'not inside');
  refused(() => checkSubnet({ subnet: '10.9.0.0/31' }), 'network_subnet_invalid', 'too small');
});

test("overlaps: any shared address, in either direction", () => {
  const c = (s: string) => parseCidr(s, 'subnet');
  assert.equal(overlaps(c('172.18.0.0/16'), c('172.18.5.0/24')), true);
  assert.equal(overlaps(c('172.18.5.0/24'), c('172.18.0.0/16')), true);
  assert.equal(overlaps(c('172.18.0.0/16'), c('172.19.0.0/16')), false);
  assert.equal(overlaps(c('0.0.0.0/0'), c('10.0.0.0/8')), true);
});

test("docker's default pools in docker's order: 172.17-31 /16, then 192.168.0.0/16 in /20s", () => {
  const all = [...defaultSubnets()].map(formatCidr);
  assert.equal(all.length, 15 + 16);
  assert.equal(all[0], '172.17.0.0/16');
  assert.equal(all[14], '172.31.0.0/16');
  assert.equal(all[15], '192.168.0.0/20');
  assert.equal(all[16], '192.168.16.0/20');
  assert.equal(all.at(-1), '192.168.240.0/20');
});

test('allocateSubnet skips what is taken (berth networks, host routes and addresses) and says when all are', () => {
  const c = (s: string) => parseCidr(s, 'subnet');
  assert.deepEqual(allocateSubnet([]), { subnet: '172.17.0.0/16', gateway: '172.17.0.1' });
  assert.deepEqual(allocateSubnet([c('172.17.0.0/16'), c('172.18.3.0/24')]), { subnet: '172.19.0.0/16', gateway: '172.19.0.1' });
  // A host address alone (a /32) is enough to rule a pool out.
  assert.deepEqual(allocateSubnet([{ ...c('172.17.0.0/16') }, { base: parseCidr('172.18.9.9/32', 'a').base, prefix: 32 }]), { subnet: '172.19.0.0/16', gateway: '172.19.0.1' });
  assert.deepEqual(allocateSubnet([c('172.16.0.0/12')]), { subnet: '192.168.0.0/20', gateway: '192.168.0.1' });
  assert.equal(allocateSubnet([c('172.16.0.0/12'), c('192.168.0.0/16')]), undefined);
});

test('parseProcRoutes reads /proc/net/route (little-endian hex), leaving out the default route', () => {
  const text = [
    'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT',
    'eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0',
    'eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0',
    'docker0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0',
    '',
  ].join('\n');
  assert.deepEqual(parseProcRoutes(text).map(formatCidr), ['192.0.2.0/24', '172.17.0.0/16']);
});

test('parseFibTrieLocals reads the host\'s own addresses from /proc/net/fib_trie, loopback left out', () => {
  const text = `Main:
  +-- 0.0.0.0/0 3 0 5
     |-- 0.0.0.0
        /0 universe UNICAST
     |-- 172.18.44.7
        /32 host LOCAL
     |-- 127.0.0.1
        /32 host LOCAL
     |-- 192.0.2.255
        /32 link BROADCAST
`;
  assert.deepEqual(parseFibTrieLocals(text).map(formatCidr), ['172.18.44.7/32']);
});
