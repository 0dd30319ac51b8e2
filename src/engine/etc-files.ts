/**
 * The files Docker generates for every container and binds over the
 * image's: /etc/hostname, /etc/hosts, /etc/resolv.conf. Written into the
 * container's directory on the host (0644, temp + rename), so a restart
 * finds them and `inspect` can name them (HostnamePath, HostsPath,
 * ResolvConfPath).
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';


export interface EtcFiles {
  hostsPath: string;
  hostnamePath: string;
  resolvConfPath: string;
}

const LOCALHOST = [
  '127.0.0.1\tlocalhost',
  '::1\tlocalhost ip6-localhost ip6-loopback',
  'fe00::0\tip6-localnet',
  'ff00::0\tip6-mcastprefix',
  'ff02::1\tip6-allnodes',
  'ff02::2\tip6-allrouters',
];

function readHost(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** Docker's filter for a private network: loopback name servers cannot be reached from the container's namespace. */
export function resolvConfFor(host: string, network: string): string {
  if (network === 'host') return host;
  const lines = host.split('\n').filter((l) => !/^\s*nameserver\s+(127\.|::1\s*$|::1$)/.test(l));
  const text = lines.join('\n').replace(/\n+$/, '');
  return text === '' ? '' : `${text}\n`;
}

export function hostsFor(hostname: string, network: string, hostHosts: string): string {
  if (network === 'host') return hostHosts;
  return `${LOCALHOST.join('\n')}\n`.replace(/^127\.0\.0\.1\tlocalhost$/m, `127.0.0.1\tlocalhost ${hostname}`);
}

function writeAtomic(path: string, text: string): void {
  writeFileSync(`${path}.tmp`, text, { mode: 0o644 });
  renameSync(`${path}.tmp`, path);
}

export function writeEtcFiles(dir: string, hostname: string, network: string): EtcFiles {
  const files: EtcFiles = { hostsPath: join(dir, 'hosts'), hostnamePath: join(dir, 'hostname'), resolvConfPath: join(dir, 'resolv.conf') };
  writeAtomic(files.hostnamePath, `${hostname}\n`);
  writeAtomic(files.hostsPath, hostsFor(hostname, network, readHost('/etc/hosts')));
  writeAtomic(files.resolvConfPath, resolvConfFor(readHost('/etc/resolv.conf'), network));
  return files;
}
