import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hostsFor, resolvConfFor } from '../../../src/engine/etc-files.ts';

const HOST_RESOLV = '# made by hand\ndomain corp.internal\nnameserver 127.0.0.53\nnameserver 10.9.0.1\nsearch corp.internal\noptions edns0\n';

test('resolv.conf: the host\'s for --network host; loopback servers filtered for a private network', () => {
  assert.equal(resolvConfFor(HOST_RESOLV, 'host'), HOST_RESOLV);
  assert.equal(
    resolvConfFor(HOST_RESOLV, 'none'),
    '# made by hand\ndomain corp.internal\nnameserver 10.9.0.1\nsearch corp.internal\noptions edns0\n',
  );
  assert.equal(resolvConfFor('nameserver 127.0.0.1\n', 'bridge'), '');
});

test('resolv.conf: --dns, --dns-search, --dns-option replace their lines; the embedded resolver is the only server', () => {
  assert.equal(
    resolvConfFor(HOST_RESOLV, { network: 'bridge', dns: ['10.0.0.2', '10.0.0.3'], dnsSearch: ['a.internal'], dnsOptions: ['ndots:2'] }),
    '# made by hand\ndomain corp.internal\nnameserver 10.0.0.2\nnameserver 10.0.0.3\nsearch a.internal\noptions ndots:2\n',
  );
  assert.equal(
    resolvConfFor(HOST_RESOLV, { network: 'front', resolver: '172.18.0.1' }),
    '# made by hand\ndomain corp.internal\nnameserver 172.18.0.1\nsearch corp.internal\noptions edns0\n',
  );
  assert.match(resolvConfFor(HOST_RESOLV, { network: 'host', dns: ['10.0.0.2'] }), /^nameserver 10\.0\.0\.2$/m);
});

test('hosts: localhost and the name; a bridged container\'s own address; --add-host entries before it', () => {
  const none = hostsFor('web', 'none', '');
  assert.match(none, /^127\.0\.0\.1\tlocalhost web$/m);
  const bridged = hostsFor('web', { network: 'bridge', addresses: ['172.17.0.2'], extraHosts: [{ host: 'gw', ip: '172.17.0.1' }] }, '');
  assert.match(bridged, /^127\.0\.0\.1\tlocalhost$/m);
  assert.match(bridged, /172\.17\.0\.1\tgw\n172\.17\.0\.2\tweb\n$/);
  assert.match(hostsFor('web', { network: 'front', addresses: ['10.1.0.2', '10.2.0.3'] }, ''), /\n10\.1\.0\.2\tweb\n10\.2\.0\.3\tweb\n$/, 'one line per network, the first network first');
  assert.equal(hostsFor('web', 'host', '127.0.0.1 localhost\n'), '127.0.0.1 localhost\n');
  assert.equal(hostsFor('web', { network: 'host', extraHosts: [{ host: 'db', ip: '10.1.1.1' }] }, '127.0.0.1 localhost'), '127.0.0.1 localhost\n10.1.1.1\tdb\n');
});
