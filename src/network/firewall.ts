/**
 * berth's own iptables rules beside the CNI plugins': isolation between
 * networks, the fence around internal networks (docker's two-stage design
 * in the filter table) and NAT out, one rule per network in the nat table:
 *
 *   filter FORWARD              -j BERTH-ISOLATION-STAGE-1   (first, before CNI-FORWARD)
 *   BERTH-ISOLATION-STAGE-1     -i BR ! -o BR -j BERTH-ISOLATION-STAGE-2     every network
 *                               -i BR ! -d SUBNET -j DROP                    internal networks:
 *                               -o BR ! -s SUBNET -j DROP                    nothing leaves or enters
 *                               -j RETURN
 *   BERTH-ISOLATION-STAGE-2     -o BR -j DROP                                every network
 *                               -j RETURN
 *   nat POSTROUTING             -j BERTH-MASQUERADE
 *   BERTH-MASQUERADE            -s SUBNET ! -o BR -j MASQUERADE              networks with a way out
 *                               -j RETURN
 *
 * A packet from one berth bridge to another is dropped in stage 2; one to
 * the host's uplink passes on to CNI-FORWARD, where the firewall plugin
 * accepts the container's address. Our jump must come before the plugin's:
 * the plugin inserts its own at position 1 only when it is missing, so
 * berth checks the order after each first ADD of a network.
 *
 * NAT out is per network, as docker does it, instead of the bridge
 * plugin's ipMasq (a chain per container): measured here that costs the
 * bridge plugin ~19 ms per ADD and ~52 ms per DEL, and its DEL finds the
 * addresses to un-NAT inside the namespace, so a container that deleted
 * its own eth0 (or a namespace unmounted behind berth's back) left its
 * rules behind for good.
 *
 * Every change is idempotent (checked with -C first) and serialized: in
 * this process by a queue, between processes (two daemons on their own
 * roots, tests) by flock(2) on /run/berth-firewall.lock, since the chains
 * are the host's, shared by all: without it one process could delete the
 * chains as "empty" while another inserts its network's rules.
 * removeNetworkRules deletes a network's rules and, when no network is
 * left, the chains and the jumps to them.
 */
import { execFile } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { internal, unavailable } from '../errors.ts';
import type { NetworkRecord } from './types.ts';

export const STAGE1 = 'BERTH-ISOLATION-STAGE-1';
export const STAGE2 = 'BERTH-ISOLATION-STAGE-2';
export const MASQUERADE = 'BERTH-MASQUERADE';

type Table = 'filter' | 'nat';

interface Rule {
  table: Table;
  chain: string;
  spec: string[];
}

type Net = Pick<NetworkRecord, 'bridge' | 'subnet' | 'internal'>;

function networkRules(record: Net): Rule[] {
  const br = record.bridge;
  const filter = (chain: string, ...spec: string[]): Rule => ({ table: 'filter', chain, spec });
  const rules: Rule[] = [filter(STAGE1, '-i', br, '!', '-o', br, '-j', STAGE2), filter(STAGE2, '-o', br, '-j', 'DROP')];
  if (record.internal) {
    rules.push(filter(STAGE1, '-i', br, '!', '-d', record.subnet, '-j', 'DROP'), filter(STAGE1, '-o', br, '!', '-s', record.subnet, '-j', 'DROP'));
  } else {
    rules.push({ table: 'nat', chain: MASQUERADE, spec: ['-s', record.subnet, '!', '-o', br, '-j', 'MASQUERADE'] });
  }
  return rules;
}

function iptables(table: Table, args: string[]): Promise<{ ok: boolean; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile('iptables', ['-w', '-t', table, ...args], { timeout: 30_000 }, (err, stdout, stderr) => {
      if (err !== null && typeof err.code !== 'number') {
        reject(internal('firewall_failed', `iptables -t ${table} ${args.join(' ')}: ${err.message}`, { cause: err }));
        return;
      }
      resolve({ ok: err === null, stdout, stderr });
    });
  });
}

async function must(table: Table, args: string[]): Promise<string> {
  const r = await iptables(table, args);
  if (!r.ok) throw internal('firewall_failed', `iptables -t ${table} ${args.join(' ')}: ${r.stderr.trim()}`);
  return r.stdout;
}

const exists = async (r: Rule): Promise<boolean> => (await iptables(r.table, ['-C', r.chain, ...r.spec])).ok;
const hasChain = async (table: Table, chain: string): Promise<boolean> => (await iptables(table, ['-n', '-L', chain])).ok;

/** A chain of ours ending in RETURN, and the jump to it from a built-in chain. */
async function ensureChain(table: Table, chain: string, from?: string): Promise<void> {
  if (!(await hasChain(table, chain))) {
    await must(table, ['-N', chain]);
    await must(table, ['-A', chain, '-j', 'RETURN']);
  }
  if (from !== undefined && !(await iptables(table, ['-C', from, '-j', chain])).ok) await must(table, ['-A', from, '-j', chain]);
}

/** Our FORWARD jump exists and comes before the firewall plugin's CNI-FORWARD jump. */
async function ensureJumpFirst(): Promise<void> {
  const lines = (await must('filter', ['-S', 'FORWARD'])).split('\n').filter((l) => l.startsWith('-A FORWARD'));
  const ours = lines.findIndex((l) => l.endsWith(`-j ${STAGE1}`));
  const cni = lines.findIndex((l) => / -j CNI-FORWARD$/.test(l));
  if (ours !== -1 && (cni === -1 || ours < cni)) return;
  if (ours !== -1) await must('filter', ['-D', 'FORWARD', '-j', STAGE1]);
  await must('filter', ['-I', 'FORWARD', '1', '-j', STAGE1]);
}

/** Rules in a chain of ours other than its final RETURN; a missing chain (a crash between making two) counts as empty. */
async function rulesLeft(table: Table, chain: string): Promise<number> {
  const r = await iptables(table, ['-S', chain]);
  return r.stdout.split('\n').filter((l) => l.startsWith(`-A ${chain} `) && !l.endsWith('-j RETURN')).length;
}

async function dropChain(table: Table, chain: string, from: string): Promise<void> {
  while ((await iptables(table, ['-C', from, '-j', chain])).ok) await must(table, ['-D', from, '-j', chain]);
  if (!(await hasChain(table, chain))) return;
  await must(table, ['-F', chain]);
  await must(table, ['-X', chain]);
}

export const LOCK_FILE = '/run/berth-firewall.lock';
const LOCK_WAIT_MS = 60_000;

/** Holds the host-wide lock while `fn` runs (flock has no timed wait: tried every few ms). */
async function withHostLock<T>(fn: () => Promise<T>): Promise<T> {
  const { tryLockExclusive } = await import('../sys/flock.ts');
  const fd = openSync(LOCK_FILE, 'a', 0o600);
  try {
    const deadline = Date.now() + LOCK_WAIT_MS;
    while (!tryLockExclusive(fd)) {
      if (Date.now() > deadline) throw unavailable('firewall_busy', `${LOCK_FILE}: another process held the firewall lock for ${LOCK_WAIT_MS / 1000} s`);
      await new Promise((r) => setTimeout(r, 5));
    }
    return await fn();
  } finally {
    closeSync(fd);
  }
}

let queue: Promise<unknown> = Promise.resolve();

/** Runs firewall changes one at a time, here and across processes (two attaches must not both insert a rule they both found missing). */
function serialized<T>(fn: () => Promise<T>): Promise<T> {
  const locked = (): Promise<T> => withHostLock(fn);
  const next = queue.then(locked, locked);
  queue = next.catch(() => undefined);
  return next;
}

/** Makes the rules of one network present (and our FORWARD jump first); cheap to call again. */
export function ensureNetworkRules(record: Net): Promise<void> {
  return serialized(async () => {
    await ensureChain('filter', STAGE2);
    await ensureChain('filter', STAGE1);
    await ensureChain('nat', MASQUERADE, 'POSTROUTING');
    for (const rule of networkRules(record)) {
      if (!(await exists(rule))) await must(rule.table, ['-I', rule.chain, '1', ...rule.spec]);
    }
    await ensureJumpFirst();
  });
}

/** Deletes one network's rules; the chains and jumps go with the last network's. Missing rules are fine. */
export function removeNetworkRules(record: Net): Promise<void> {
  return serialized(async () => {
    // Both shapes: a record's internal flag cannot change, but a crash may have left either.
    for (const rule of [...networkRules({ ...record, internal: true }), ...networkRules({ ...record, internal: false })]) {
      if (!(await hasChain(rule.table, rule.chain))) continue;
      while (await exists(rule)) await must(rule.table, ['-D', rule.chain, ...rule.spec]);
    }
    if ((await rulesLeft('filter', STAGE1)) === 0 && (await rulesLeft('filter', STAGE2)) === 0) {
      await dropChain('filter', STAGE1, 'FORWARD');
      await dropChain('filter', STAGE2, 'FORWARD');
    }
    if ((await rulesLeft('nat', MASQUERADE)) === 0) await dropChain('nat', MASQUERADE, 'POSTROUTING');
  });
}
