/**
 * The files Docker generates for every container and binds over the
 * image's: /etc/hostname, /etc/hosts, /etc/resolv.conf. Written into the
 * container's directory on the host (0644), so a restart finds them and
 * `inspect` can name them (HostnamePath, HostsPath, ResolvConfPath).
 */
import { closeSync, constants, ftruncateSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { ExtraHost } from './spec/network-options.ts';

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

/**
 * What the files say beyond the hostname. `network` is docker's mode
 * string; for a bridged container, `addresses` are its own (first network
 * first) and `resolver` the embedded resolver's address on a network with
 * DNS. `--dns*` replace the host's servers, search domains and options.
 */
export interface EtcInputs {
  network: string;
  addresses?: readonly string[];
  resolver?: string;
  /** host-gateway resolved already: the host's address on the container's first network. */
  extraHosts?: readonly ExtraHost[];
  dns?: readonly string[];
  dnsSearch?: readonly string[];
  dnsOptions?: readonly string[];
}

const isLoopbackServer = (l: string): boolean => /^\s*nameserver\s+(127\.|::1\s*$|::1$)/.test(l);

/**
 * Docker's resolv.conf: the host's, with loopback name servers filtered out
 * for a private network (they cannot be reached from its namespace);
 * `--dns`, `--dns-search`, `--dns-option` replace their lines; on a network
 * with the embedded resolver, that is the only server.
 */
export function resolvConfFor(host: string, inputs: EtcInputs | string): string {
  const i: EtcInputs = typeof inputs === 'string' ? { network: inputs } : inputs;
  const keep = (kind: string, given: readonly string[] | undefined, lines: string[]): string[] =>
    given !== undefined && given.length > 0 ? [`${kind} ${given.join(' ')}`] : lines.filter((l) => new RegExp(`^\\s*${kind}\\s`).test(l));
  if (i.network === 'host' && (i.dns ?? []).length === 0 && (i.dnsSearch ?? []).length === 0 && (i.dnsOptions ?? []).length === 0) return host;
  const lines = host.split('\n');
  const servers =
    i.resolver !== undefined
      ? [`nameserver ${i.resolver}`]
      : (i.dns ?? []).length > 0
        ? (i.dns ?? []).map((d) => `nameserver ${d}`)
        : lines.filter((l) => /^\s*nameserver\s/.test(l) && (i.network === 'host' || !isLoopbackServer(l)));
  const other = lines.filter((l) => l.trim() !== '' && !/^\s*(nameserver|search|options)\s/.test(l));
  const out = [...other, ...servers, ...keep('search', i.dnsSearch, lines), ...keep('options', i.dnsOptions, lines)];
  return out.length === 0 ? '' : `${out.join('\n')}\n`;
}

/** Docker's /etc/hosts: localhost, the --add-host entries, then the container's addresses (one per network) and its name. */
export function hostsFor(hostname: string, inputs: EtcInputs | string, hostHosts: string): string {
  const i: EtcInputs = typeof inputs === 'string' ? { network: inputs } : inputs;
  const extra = (i.extraHosts ?? []).map((h) => `${h.ip}\t${h.host}`);
  if (i.network === 'host') return extra.length === 0 ? hostHosts : `${hostHosts.replace(/\n*$/, '\n')}${extra.join('\n')}\n`;
  const own = i.addresses ?? [];
  const local = own.length === 0 ? LOCALHOST.map((l) => (l === '127.0.0.1\tlocalhost' ? `${l} ${hostname}` : l)) : LOCALHOST;
  return `${[...local, ...extra, ...own.map((a) => `${a}\t${hostname}`)].join('\n')}\n`;
}

/**
 * Writes `text` over the file from its start, then cuts it to that length.
 * In place: a running container sees the files through bind mounts of their
 * inodes, which a rename would leave behind (docker too rewrites them in
 * place); nothing reads them during a start's write, and a crash during one
 * leaves what the next start writes again. Not O_TRUNC, nor a rename over
 * the file: ext4 (auto_da_alloc) flushes a file truncated to zero, or
 * renamed over another, when it is closed: ~0.15 ms a file here, against
 * ~0.02 ms written over and cut. (libuv opens every file close-on-exec.)
 */
export function overwrite(path: string, text: string | Uint8Array): void {
  const data = typeof text === 'string' ? Buffer.from(text) : text;
  const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_NOFOLLOW, 0o644);
  try {
    let done = 0;
    while (done < data.length) done += writeSync(fd, data, done, data.length - done, done);
    ftruncateSync(fd, data.length);
  } finally {
    closeSync(fd);
  }
}

export function etcPaths(dir: string): EtcFiles {
  return { hostsPath: join(dir, 'hosts'), hostnamePath: join(dir, 'hostname'), resolvConfPath: join(dir, 'resolv.conf') };
}

/** A create's, in the container's new directory: written straight (nothing reads them before it starts, and a create cut short is removed whole). */
export function writeEtcFiles(dir: string, hostname: string, inputs: EtcInputs | string): EtcFiles {
  const files = etcPaths(dir);
  writeFileSync(files.hostnamePath, `${hostname}\n`, { mode: 0o644 });
  writeNetworkFiles(dir, hostname, inputs);
  return files;
}

/**
 * hosts and resolv.conf again, once a start knows the container's
 * addresses (before its process runs), or a running container is connected
 * to a network: written in place (overwrite).
 */
export function writeNetworkFiles(dir: string, hostname: string, inputs: EtcInputs | string): void {
  const files = etcPaths(dir);
  overwrite(files.hostsPath, hostsFor(hostname, inputs, readHost('/etc/hosts')));
  overwrite(files.resolvConfPath, resolvConfFor(readHost('/etc/resolv.conf'), inputs));
}
