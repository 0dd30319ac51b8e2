import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { readLeases } from '../../../src/network/cni/leases.ts';
import { tempDir } from '../../helpers/cleanup.ts';

test("host-local's lease files are read as ip, container and interface; its other files are not leases", (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, 'net1'));
  writeFileSync(join(dir, 'net1', '10.0.0.2'), 'abc\r\neth0');
  writeFileSync(join(dir, 'net1', '10.0.0.3'), 'def\neth1\n');
  writeFileSync(join(dir, 'net1', 'last_reserved_ip.0'), '10.0.0.3');
  writeFileSync(join(dir, 'net1', 'lock'), '');
  const leases = readLeases(dir, 'net1').sort((a, b) => a.ip.localeCompare(b.ip));
  assert.deepEqual(leases, [
    { ip: '10.0.0.2', containerId: 'abc', ifname: 'eth0' },
    { ip: '10.0.0.3', containerId: 'def', ifname: 'eth1' },
  ]);
  assert.deepEqual(readLeases(dir, 'absent'), []);
});
