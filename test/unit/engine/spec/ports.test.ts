import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseExpose, parsePublish } from '../../../../src/engine/spec/ports.ts';
import { checkNetworkOptions, networkKind, parseNetworkOptions } from '../../../../src/engine/spec/network-options.ts';
import { throwsCode } from './helpers.ts';

test('-p in docker\'s forms: container only, host:container, ip:host:container, ip::container, IPv6 in brackets, protocols', () => {
  assert.deepEqual(parsePublish('80'), [{ hostIp: '', hostPort: 0, containerPort: 80, protocol: 'tcp' }]);
  assert.deepEqual(parsePublish('8080:80'), [{ hostIp: '', hostPort: 8080, containerPort: 80, protocol: 'tcp' }]);
  assert.deepEqual(parsePublish('127.0.0.1:8080:80/udp'), [{ hostIp: '127.0.0.1', hostPort: 8080, containerPort: 80, protocol: 'udp' }]);
  assert.deepEqual(parsePublish('127.0.0.1::80'), [{ hostIp: '127.0.0.1', hostPort: 0, containerPort: 80, protocol: 'tcp' }]);
  assert.deepEqual(parsePublish('0.0.0.0:81:80'), [{ hostIp: '', hostPort: 81, containerPort: 80, protocol: 'tcp' }]);
  assert.deepEqual(parsePublish('0:80'), [{ hostIp: '', hostPort: 0, containerPort: 80, protocol: 'tcp' }]);
  assert.deepEqual(parsePublish('[::1]:8080:80/TCP'), [{ hostIp: '::1', hostPort: 8080, containerPort: 80, protocol: 'tcp' }]);
});

test('-p ranges: equal lengths map port by port; a host range for one container port picks one', () => {
  assert.deepEqual(
    parsePublish('8000-8001:80-81').map((p) => [p.hostPort, p.containerPort]),
    [[8000, 80], [8001, 81]],
  );
  assert.deepEqual(parsePublish('8000-8010:80'), [{ hostIp: '', hostPort: 8000, hostPortEnd: 8010, containerPort: 80, protocol: 'tcp' }]);
  assert.deepEqual(parsePublish('90-91').map((p) => [p.hostPort, p.containerPort]), [[0, 90], [0, 91]]);
});

test('-p refusals name the flag and the value', () => {
  for (const [bad, why] of [
    ['', /no container port/],
    ['x:80', /host port "x"/],
    ['80:0', /container port 0 is out of range/],
    ['70000:80', /host port 70000 is out of range/],
    ['8000-8002:80-81', /differ in length/],
    ['81-80:80', /ends before it starts/],
    ['80/sctp', /sctp ports are not supported/],
    ['80/icmp', /"icmp" is not a protocol/],
    ['1.2.3:80:80', /"1.2.3" is not an IP address/],
    ['::1:80:80', /IPv6 address goes in brackets/],
    ['[::1:80:80', /brackets must be followed/],
  ] as const) {
    throwsCode(() => parsePublish(bad), 'run_flag_invalid', new RegExp(`--publish ${JSON.stringify(JSON.stringify(bad)).slice(1, -1).replace(/[[\]().*+?^$|]/g, '\\$&')}: .*${why.source}`));
  }
});

test('--expose and the image\'s ExposedPorts keys', () => {
  assert.deepEqual(parseExpose('80'), [{ port: 80, protocol: 'tcp' }]);
  assert.deepEqual(parseExpose('53/udp'), [{ port: 53, protocol: 'udp' }]);
  assert.deepEqual(parseExpose('7000-7001'), [{ port: 7000, protocol: 'tcp' }, { port: 7001, protocol: 'tcp' }]);
  throwsCode(() => parseExpose('http'), 'run_flag_invalid', /--expose "http"/);
});

test('network modes: none, host, container:X, bridge (default), a name', () => {
  assert.deepEqual(networkKind('none'), { kind: 'none' });
  assert.deepEqual(networkKind('container:web'), { kind: 'container', container: 'web' });
  assert.deepEqual(networkKind('default'), { kind: 'network', name: 'bridge' });
  assert.equal(parseNetworkOptions({}).network, 'bridge');
  assert.equal(parseNetworkOptions({ network: 'default' }).network, 'bridge');
  assert.equal(parseNetworkOptions({ network: 'front' }).network, 'front');
  throwsCode(() => parseNetworkOptions({ network: 'container:' }), 'run_flag_invalid', /--network "container:"/);
  throwsCode(() => parseNetworkOptions({ network: '-x' }), 'run_flag_invalid', /--network "-x"/);
});

test('what only some networks can do is refused on the others, by flag', () => {
  throwsCode(() => parseNetworkOptions({ network: 'host', publish: ['80'] }), 'run_flags_conflict', /--publish and --network host/);
  throwsCode(() => parseNetworkOptions({ network: 'container:a', publishAll: true }), 'run_flags_conflict', /--publish-all/);
  throwsCode(() => parseNetworkOptions({ network: 'container:a', dns: ['10.0.0.1'] }), 'run_flags_conflict', /--dns/);
  throwsCode(() => parseNetworkOptions({ networkAlias: ['web'] }), 'run_flag_invalid', /--network-alias "web": .*user-defined/);
  throwsCode(() => parseNetworkOptions({ ip: '10.1.0.5' }), 'run_flag_invalid', /--ip "10.1.0.5": .*user-defined/);
  throwsCode(() => parseNetworkOptions({ network: 'front', ip: '10.1.0' }), 'run_flag_invalid', /not an IPv4 address/);
  throwsCode(() => parseNetworkOptions({ publish: ['8080:80', '8080:81'] }), 'run_flag_invalid', /8080\/tcp.*published twice/);
  const ok = parseNetworkOptions({
    network: 'front', networkAlias: ['db'], ip: '10.1.0.5', macAddress: '02:42:AC:11:00:02',
    dns: ['10.0.0.2'], dnsSearch: ['example.internal'], dnsOption: ['ndots:2'], addHost: ['gw:host-gateway', 'v6=[::1]', 'a:1.2.3.4'],
  });
  assert.equal(ok.macAddress, '02:42:ac:11:00:02');
  assert.deepEqual(ok.extraHosts, [{ host: 'gw', ip: 'host-gateway' }, { host: 'v6', ip: '::1' }, { host: 'a', ip: '1.2.3.4' }]);
  throwsCode(() => parseNetworkOptions({ macAddress: '03:00:00:00:00:01' }), 'run_flag_invalid', /multicast/);
  throwsCode(() => parseNetworkOptions({ addHost: ['nohost'] }), 'run_flag_invalid', /--add-host "nohost"/);
  throwsCode(() => parseNetworkOptions({ dns: ['resolver'] }), 'run_flag_invalid', /--dns "resolver"/);
});

test('network options sent as JSON are checked again by the daemon: a round trip is equal, a bad field is named', () => {
  const given = parseNetworkOptions({
    network: 'front', publish: ['127.0.0.1:8080:80', '[::1]::53/udp', '9000-9009:90', '7000'], publishAll: true, expose: ['90/udp'],
    networkAlias: ['db'], dns: ['10.0.0.2'], dnsSearch: ['x.internal'], dnsOption: ['ndots:2'], addHost: ['gw:host-gateway', 'v6:[::1]'], ip: '10.1.0.5', macAddress: '02:00:00:00:00:01',
  });
  const fail = (field: string): never => {
    throw new Error(`bad ${field}`);
  };
  assert.deepEqual(checkNetworkOptions(JSON.parse(JSON.stringify(given)) as Record<string, unknown>, fail), given);
  const wire = JSON.parse(JSON.stringify(given)) as Record<string, unknown>;
  assert.throws(() => checkNetworkOptions({ ...wire, ports: [{ hostIp: 'x', hostPort: 1, containerPort: 1, protocol: 'tcp' }] }, fail), /bad ports\[0\]\.hostIp/);
  assert.throws(() => checkNetworkOptions({ ...wire, ports: [{ hostIp: '', hostPort: 1, containerPort: 0, protocol: 'tcp' }] }, fail), /bad ports\[0\]\.containerPort/);
  assert.throws(() => checkNetworkOptions({ ...wire, network: 7 }, fail), /bad network/);
  assert.throws(() => checkNetworkOptions({ ...wire, dns: ['x'] }, fail), /--dns "x"/);
});
