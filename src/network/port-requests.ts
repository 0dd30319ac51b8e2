/**
 * A check of published ports both doors share: the flags' parser (before
 * anything is made) and the network layer (before it holds host ports).
 */
import { invalidArgument } from '../errors.ts';
import type { PortRequest } from './types.ts';

/** Published ports of one container must not claim one host port twice. */
export function checkPortClashes(ports: readonly PortRequest[]): void {
  const seen = new Map<string, PortRequest>();
  for (const p of ports) {
    if (p.hostPort === 0 || p.hostPortEnd !== undefined) continue;
    const key = `${p.hostIp}|${p.hostPort}/${p.protocol}`;
    const before = seen.get(key);
    if (before !== undefined) {
      const where = `${p.hostIp === '' ? '' : `${p.hostIp}:`}${p.hostPort}/${p.protocol}`;
      throw invalidArgument('run_flag_invalid', `--publish ${JSON.stringify(where)}: host port published twice (to ${before.containerPort} and ${p.containerPort})`, {
        details: { flag: '--publish', value: where },
      });
    }
    seen.set(key, p);
  }
}
