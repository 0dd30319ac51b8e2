/**
 * The host's resolvers, read from its /etc/resolv.conf, become the
 * upstreams of berth's resolver. berthd runs on the host, so a loopback
 * resolver (systemd-resolved's 127.0.0.53) serves as well as any.
 */
import { isIP } from 'node:net';

/** The nameservers of a resolv.conf text, in order, each once; lines that are not a valid `nameserver IP` are skipped. */
export function hostUpstreams(resolvConf: string): string[] {
  const out: string[] = [];
  for (const line of resolvConf.split('\n')) {
    const m = /^\s*nameserver\s+(\S+)\s*(?:[#;].*)?$/.exec(line);
    const ip = m?.[1];
    if (ip !== undefined && isIP(ip) !== 0 && !out.includes(ip)) out.push(ip);
  }
  return out;
}
