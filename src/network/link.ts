/**
 * The host side of a network that outlives its endpoints: its bridge
 * interface, which the bridge plugin makes at the first ADD and never
 * deletes (CNI has no "network removed" call); berth deletes it at network rm.
 */
import { execFile } from 'node:child_process';
import { internal } from '../errors.ts';

/** Deletes an interface; an absent one is fine. */
export function deleteLink(name: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('ip', ['link', 'del', 'dev', name], { timeout: 30_000 }, (err, _stdout, stderr) => {
      if (err === null || /Cannot find device|does not exist/.test(stderr)) resolve();
      else reject(internal('network_link_failed', `ip link del ${name}: ${stderr.trim() || err.message}`, { cause: err }));
    });
  });
}
