/**
 * berth's own iptables rules beside the CNI plugins': isolation between
 * networks and the fence around internal networks, docker's two-stage
 * design in the filter table:
 *
 *   FORWARD                    -j BERTH-ISOLATION-STAGE-1   (first, before CNI-FORWARD)
 *   BERTH-ISOLATION-STAGE-1    -i BR ! -o BR -j BERTH-ISOLATION-STAGE-2     every network
 *                              -i BR ! -d SUBNET -j DROP                    internal networks:
 *                              -o BR ! -s SUBNET -j DROP                    nothing leaves or enters
 *                              -j RETURN
 *   BERTH-ISOLATION-STAGE-2    -o BR -j DROP                                every network
 *                              -j RETURN
 *
 * A packet from one berth bridge to another is dropped in stage 2; one to
 * the host's uplink passes on to CNI-FORWARD, where the firewall plugin
 * accepts the container's address. Our jump must come before the plugin's:
 * the plugin inserts its own at position 1 only when it is missing, so
 * berth checks the order after each first ADD of a network.
 *
 * Every change is idempotent (checked with -C first) and serialized: in
 * this process by a queue, between processes (two daemons on their own
 * roots, tests) by flock(2) on /run/berth-firewall.lock, since the chains
 * are the host's, shared by all: without it one process could delete the
 * chains as "empty" while another inserts its network's rules.
 * removeNetworkRules deletes a network's rules and, when no network is
 * left, the chains and the FORWARD jump.
 */
import { execFile } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { internal, unavailable } from '../errors.ts';
import type { NetworkRecord } from './types.ts';

export const STAGE1 = 'BERTH-ISOLATION-STAGE-1';
export const STAGE2 = 'BERTH-ISOLATION-STAGE-2';

type Rule = [chain: string, ...spec: string[]];

function bridgeRules(record: Pick<NetworkRecord, 'bridge' | 'subnet' | 'internal'>): Rule[] {
  const br = record.bridge;
  const rules: Rule[] = [
    [STAGE1, '-i', br, '!', '-o', br, '-j', STAGE2],
    [STAGE2, '-o', br, '-j', 'DROP'],
  ];
  if (record.internal) {
    rules.push([STAGE1, '-i', br, '!', '-d', record.subnet, '-j', 'DROP'], [STAGE1, '-o', br, '!', '-s', record.subnet, '-j', 'DROP']);
  }
  return rules;
}

function iptables(args: string[]): Promise<{ ok: boolean; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile('iptables', ['-w', '-t', 'filter', ...args], { timeout: 30_000 }, (err, stdout, stderr) => {
      if (err !== null && typeof err.code !== 'number') {
        reject(internal('firewall_failed', `iptables ${args.join(' ')}: ${err.message}`, { cause: err }));
        return;
      }
      resolve({ ok: err === null, stdout, stderr });
    });
  });
}

async function must(args: string[]): Promise<string> {
  const r = await iptables(args);
  if (!r.ok) throw internal('firewall_failed', `iptables ${args.join(' ')}: ${r.stderr.trim()}`);
  return r.stdout;
}

const exists = async (rule: Rule): Promise<boolean> => (await iptables(['-C', ...rule])).ok;

async function ensureChain(chain: string): Promise<void> {
  if ((await iptables(['-n', '-L', chain])).ok) return;
  await must(['-N', chain]);
  await must(['-A', chain, '-j', 'RETURN']);
}

/** Our FORWARD jump exists and comes before the firewall plugin's CNI-FORWARD jump. */
async function ensureJumpFirst(): Promise<void> {
  const lines = (await must(['-S', 'FORWARD'])).split('\n').filter((l) => l.startsWith('-A FORWARD'));
  const ours = lines.findIndex((l) => l.endsWith(`-j ${STAGE1}`));
  const cni = lines.findIndex((l) => / -j CNI-FORWARD$/.test(l));
  if (ours !== -1 && (cni === -1 || ours < cni)) return;
  if (ours !== -1) await must(['-D', 'FORWARD', '-j', STAGE1]);
  await must(['-I', 'FORWARD', '1', '-j', STAGE1]);
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

/** Makes the isolation rules of one network present (and our jump first); cheap to call again. */
export function ensureNetworkRules(record: Pick<NetworkRecord, 'bridge' | 'subnet' | 'internal'>): Promise<void> {
  return serialized(async () => {
    await ensureChain(STAGE1);
    await ensureChain(STAGE2);
    for (const rule of bridgeRules(record)) {
      if (!(await exists(rule))) await must(['-I', rule[0], '1', ...rule.slice(1)]);
    }
    await ensureJumpFirst();
  });
}

/** Deletes one network's rules; the chains and the jump go with the last network's. Missing rules are fine. */
export function removeNetworkRules(record: Pick<NetworkRecord, 'bridge' | 'subnet' | 'internal'>): Promise<void> {
  return serialized(async () => {
    if (!(await iptables(['-n', '-L', STAGE1])).ok) return;
    // Both shapes: a record's internal flag cannot change, but a crash may have left either.
    for (const rule of bridgeRules({ ...record, internal: true })) {
      while (await exists(rule)) await must(['-D', ...rule]);
    }
    // A chain missing (a crash between making the two) counts as empty.
    const left = async (chain: string): Promise<number> =>
      (await iptables(['-S', chain])).stdout.split('\n').filter((l) => l.startsWith(`-A ${chain} `) && !l.endsWith('-j RETURN')).length;
    if ((await left(STAGE1)) > 0 || (await left(STAGE2)) > 0) return;
    while ((await iptables(['-C', 'FORWARD', '-j', STAGE1])).ok) await must(['-D', 'FORWARD', '-j', STAGE1]);
    for (const chain of [STAGE1, STAGE2]) {
      if (!(await iptables(['-n', '-L', chain])).ok) continue;
      await must(['-F', chain]);
      await must(['-X', chain]);
    }
  });
}
