/**
 * The default network of every berthd a test process starts (in the
 * foreground, through ensureDaemon, or as a bench's child): a bridge and a
 * /24 of this process's own, given through berthd's environment
 * (BERTH_BRIDGE, BERTH_BIP, BERTH_NETWORK_POOL=0), so test processes
 * running side by side never share `berth0` or 172.17.0.0/16. Removed
 * (the bridge and the isolation rules naming it) when the process exits.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

/** A /24 under `base` (say "10.215") no route of the host uses. */
export function freeBip(base: string): string {
  const routes = execFileSync('ip', ['-4', 'route', 'show'], { encoding: 'utf8' });
  for (;;) {
    const x = 1 + Math.floor(Math.random() * 250);
    if (!routes.includes(`${base}.${x}.`)) return `${base}.${x}.1/24`;
  }
}

/** Deletes a bridge and every iptables rule naming it (filter and nat); what is not there is fine. */
export function removeBridge(bridge: string): void {
  try {
    execFileSync('ip', ['link', 'del', bridge], { stdio: 'ignore' });
  } catch {
    // never made
  }
  for (const table of ['filter', 'nat']) {
    const rules = execFileSync('iptables-save', ['-t', table], { encoding: 'utf8' })
      .split('\n')
      .filter((l) => l.startsWith('-A ') && new RegExp(`(-i|-o) ${bridge}( |$)`).test(l));
    for (const r of rules) {
      try {
        execFileSync('sh', ['-c', `iptables -t ${table} ${r.replace(/^-A /, '-D ')}`], { stdio: 'ignore' });
      } catch {
        // gone meanwhile
      }
    }
  }
}

let set = false;

/** Sets this process's berthd network environment once (children inherit it). */
export function useTestNetwork(): { bridge: string; bip: string } {
  if (!set) {
    set = true;
    process.env['BERTH_BRIDGE'] ??= `bt${randomBytes(4).toString('hex')}`;
    process.env['BERTH_BIP'] ??= freeBip('10.218');
    process.env['BERTH_NETWORK_POOL'] ??= '0';
    const bridge = process.env['BERTH_BRIDGE'];
    process.on('exit', () => removeBridge(bridge));
  }
  return { bridge: process.env['BERTH_BRIDGE']!, bip: process.env['BERTH_BIP']! };
}
