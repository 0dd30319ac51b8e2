/**
 * host-local's lease files, read back: DATADIR/<network>/<ip> holds the
 * container ID and the interface name, one a line. berth reads them in two
 * cases only: to find the address an ADD interrupted by a crash had already
 * taken (the firewall plugin's DEL removes its rules only for the addresses
 * in prevResult, and no result was stored), and in tests, to prove no
 * lease outlives its endpoint.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isIP } from 'node:net';
import { errnoCode } from '../../errors.ts';

export interface Lease {
  ip: string;
  containerId: string;
  ifname: string;
}

export function readLeases(dataDir: string, network: string): Lease[] {
  const dir = join(dataDir, network);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return [];
    throw err;
  }
  const out: Lease[] = [];
  for (const name of names) {
    if (isIP(name) === 0) continue;
    let content: string;
    try {
      content = readFileSync(join(dir, name), 'utf8');
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') continue;
      throw err;
    }
    const [containerId = '', ifname = ''] = content.split(/\r?\n/);
    out.push({ ip: name, containerId: containerId.trim(), ifname: ifname.trim() });
  }
  return out;
}
