import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildConflist, pluginConfig, runtimeConfigFor } from '../../../src/network/cni/conflist.ts';
import { isBerthError } from '../../../src/errors.ts';
import type { NetworkRecord } from '../../../src/network/types.ts';

const record = (extra: Partial<NetworkRecord> = {}): NetworkRecord => ({
  id: 'a'.repeat(64),
  name: 'web',
  driver: 'bridge',
  bridge: 'br-web',
  subnet: '172.20.0.0/16',
  gateway: '172.20.0.1',
  internal: false,
  dns: true,
  labels: {},
  options: {},
  created: '2026-01-01T00:00:00Z',
  ...extra,
});

test('a network record becomes bridge + portmap + firewall + tuning with host-local under ROOT/network/ipam', () => {
  const list = buildConflist(record(), '/var/lib/berth');
  assert.equal(list.cniVersion, '1.0.0');
  assert.equal(list.name, 'a'.repeat(64));
  assert.deepEqual(
    list.plugins.map((p) => p.type),
    ['bridge', 'portmap', 'firewall', 'tuning'],
  );
  const bridge = list.plugins[0]!;
  assert.equal(bridge['bridge'], 'br-web');
  assert.equal(bridge['isGateway'], true);
  assert.equal(bridge['ipMasq'], false, "NAT is berth's, per network");
  assert.equal(bridge['hairpinMode'], true);
  assert.equal(bridge['mtu'], undefined);
  assert.deepEqual(bridge['ipam'], {
    type: 'host-local',
    ranges: [[{ subnet: '172.20.0.0/16', gateway: '172.20.0.1' }]],
    routes: [{ dst: '0.0.0.0/0' }],
    dataDir: '/var/lib/berth/network/ipam',
  });
  assert.deepEqual(list.plugins[1], { type: 'portmap', capabilities: { portMappings: true }, snat: true });
  assert.deepEqual(list.plugins[2], { type: 'firewall', backend: 'iptables' });
  assert.deepEqual(list.plugins[3], { type: 'tuning', capabilities: { mac: true } });
  assert.deepEqual(
    buildConflist(record(), '/r', { ports: false, mac: false, defaultRoute: true }).plugins.map((p) => p.type),
    ['bridge', 'firewall'],
  );
  assert.deepEqual(
    buildConflist(record(), '/r', { ports: false, mac: true, defaultRoute: true }).plugins.map((p) => p.type),
    ['bridge', 'firewall', 'tuning'],
  );
  const second = buildConflist(record(), '/r', { ports: false, mac: false, defaultRoute: false }).plugins[0]!;
  assert.deepEqual((second['ipam'] as { routes: unknown }).routes, [], 'a second network adds no default route');
});

test('an internal network has no default route; the MTU option is passed on', () => {
  const list = buildConflist(record({ internal: true, options: { 'com.docker.network.driver.mtu': '1400' } }), '/r');
  const bridge = list.plugins[0]!;
  assert.equal(bridge['ipMasq'], false);
  assert.equal(bridge['mtu'], 1400);
  assert.deepEqual((bridge['ipam'] as { routes: unknown }).routes, []);
  assert.throws(
    () => buildConflist(record({ options: { 'com.docker.network.driver.mtu': 'big' } }), '/r'),
    (e: unknown) => isBerthError(e, 'cni_mtu_invalid') && e.message.includes('"big"'),
  );
});

test('an ip range narrows host-local to its addresses, without the subnet network and broadcast addresses', () => {
  const range = (ipRange: string): unknown => (buildConflist(record({ subnet: '10.1.0.0/16', gateway: '10.1.0.1', ipRange }), '/r').plugins[0]!['ipam'] as { ranges: unknown[][] }).ranges[0]![0];
  assert.deepEqual(range('10.1.5.0/24'), { subnet: '10.1.0.0/16', gateway: '10.1.0.1', rangeStart: '10.1.5.0', rangeEnd: '10.1.5.255' });
  assert.deepEqual(range('10.1.0.0/24'), { subnet: '10.1.0.0/16', gateway: '10.1.0.1', rangeStart: '10.1.0.1', rangeEnd: '10.1.0.255' });
  assert.deepEqual(range('10.1.255.0/24'), { subnet: '10.1.0.0/16', gateway: '10.1.0.1', rangeStart: '10.1.255.0', rangeEnd: '10.1.255.254' });
  assert.throws(() => range('10.2.0.0/24'), (e: unknown) => isBerthError(e, 'cni_ip_range_invalid') && e.message.includes('not inside subnet 10.1.0.0/16'));
});

test('capability args: ports, --ip with the subnet prefix, --mac-address; bad ones named', () => {
  const r = record();
  assert.deepEqual(runtimeConfigFor(r, {}, []), {});
  assert.deepEqual(
    runtimeConfigFor(r, { ipv4Address: '172.20.3.4', macAddress: '02:42:AC:14:03:04' }, [
      { hostIp: '', hostPort: 8080, containerPort: 80, protocol: 'tcp' },
      { hostIp: '127.0.0.1', hostPort: 5353, containerPort: 53, protocol: 'udp' },
    ]),
    {
      portMappings: [
        { hostPort: 8080, containerPort: 80, protocol: 'tcp' },
        { hostPort: 5353, containerPort: 53, protocol: 'udp', hostIP: '127.0.0.1' },
      ],
      ips: ['172.20.3.4/16'],
      mac: '02:42:ac:14:03:04',
    },
  );
  const ip = (a: string): unknown => runtimeConfigFor(r, { ipv4Address: a }, []);
  assert.throws(() => ip('10.0.0.1'), (e: unknown) => isBerthError(e, 'attach_ip_invalid') && e.message.includes('subnet 172.20.0.0/16'));
  assert.throws(() => ip('172.20.0.1'), (e: unknown) => isBerthError(e, 'attach_ip_invalid') && e.message.includes('gateway'));
  assert.throws(() => ip('172.20.255.255'), (e: unknown) => isBerthError(e, 'attach_ip_invalid'));
  assert.throws(() => ip('nope'), (e: unknown) => isBerthError(e, 'attach_ip_invalid'));
  assert.throws(() => runtimeConfigFor(r, { macAddress: '03:00:00:00:00:01' }, []), (e: unknown) => isBerthError(e, 'attach_mac_invalid') && e.message.includes('multicast'));
  assert.throws(() => runtimeConfigFor(r, { macAddress: 'zz' }, []), (e: unknown) => isBerthError(e, 'attach_mac_invalid'));
});

test('each plugin gets only the capability args it declares, with the list name, version and prevResult', () => {
  const list = buildConflist(record(), '/r');
  const runtime = { portMappings: [{ hostPort: 1, containerPort: 2, protocol: 'tcp' }], mac: '02:00:00:00:00:01', ips: ['172.20.0.9/16'] };
  const prev = { cniVersion: '1.0.0', interfaces: [], ips: [], routes: [] };
  const bridge = pluginConfig(list, list.plugins[0]!, runtime, undefined);
  assert.deepEqual(bridge['runtimeConfig'], { ips: ['172.20.0.9/16'] });
  assert.equal(bridge['prevResult'], undefined);
  assert.equal(bridge['name'], list.name);
  assert.equal(bridge['cniVersion'], '1.0.0');
  assert.deepEqual(pluginConfig(list, list.plugins[1]!, runtime, prev)['runtimeConfig'], { portMappings: runtime.portMappings });
  assert.deepEqual(pluginConfig(list, list.plugins[1]!, runtime, prev)['prevResult'], prev);
  assert.equal(pluginConfig(list, list.plugins[2]!, runtime, prev)['runtimeConfig'], undefined);
  assert.deepEqual(pluginConfig(list, list.plugins[3]!, runtime, prev)['runtimeConfig'], { mac: '02:00:00:00:00:01' });
  assert.equal(pluginConfig(list, list.plugins[3]!, {}, prev)['runtimeConfig'], undefined);
});
