/**
 * Resource flags with docker's units and limits: `--memory`/`--memory-swap`
 * in go-units' binary sizes (docker's 6 MiB floor; swap -1 unlimited, else
 * at least the memory; without it docker gives twice the memory), `--cpus`
 * as a CFS quota over a 100 ms period, `--cpu-shares`, `--pids-limit` (0 or
 * less: unlimited) and `--ulimit name=soft[:hard]`.
 */
import type { LinuxResources, Rlimit } from '../../oci/runtime-spec.ts';
import { ramInBytes } from '../../runtime/cgroups/ram.ts';
import { flagError, conflict } from './flag-error.ts';

export interface ResourceFlags {
  memory?: string | undefined;
  memorySwap?: string | undefined;
  cpus?: string | undefined;
  cpuShares?: string | undefined;
  pidsLimit?: string | undefined;
  ulimit?: readonly string[] | undefined;
}

export interface ResourceOptions {
  resources: LinuxResources;
  rlimits: Rlimit[];
}

const MIN_MEMORY = 6 * 1024 * 1024;
export const CPU_PERIOD = 100_000;
const ULIMITS = new Set(['as', 'core', 'cpu', 'data', 'fsize', 'locks', 'memlock', 'msgqueue', 'nice', 'nofile', 'nproc', 'rss', 'rtprio', 'rttime', 'sigpending', 'stack']);

function bytes(flag: string, raw: string): number {
  try {
    return ramInBytes(raw);
  } catch (err) {
    throw flagError(flag, raw, 'not a size (e.g. 512m, 1g, 1048576)', err);
  }
}

function integer(flag: string, raw: string): number {
  if (!/^-?\d+$/.test(raw) || !Number.isSafeInteger(Number(raw))) throw flagError(flag, raw, 'not an integer');
  return Number(raw);
}

/** One `--ulimit nofile=1024:2048` as an OCI rlimit. */
export function parseUlimit(raw: string): Rlimit {
  const m = /^([a-z]+)=(\d+)(?::(\d+))?$/.exec(raw);
  if (m === null) throw flagError('--ulimit', raw, 'not NAME=SOFT[:HARD]');
  const [, name = '', softText = '', hardText] = m;
  if (!ULIMITS.has(name)) throw flagError('--ulimit', raw, `"${name}" is not a limit (${[...ULIMITS].join(', ')})`);
  const soft = Number(softText);
  const hard = hardText === undefined ? soft : Number(hardText);
  if (!Number.isSafeInteger(soft) || !Number.isSafeInteger(hard)) throw flagError('--ulimit', raw, 'value too large');
  if (soft > hard) throw flagError('--ulimit', raw, `the soft limit ${soft} is above the hard limit ${hard}`);
  return { type: `RLIMIT_${name.toUpperCase()}`, soft, hard };
}

export function parseResources(f: ResourceFlags): ResourceOptions {
  const resources: LinuxResources = {};
  if (f.memory !== undefined) {
    const limit = bytes('--memory', f.memory);
    if (limit < MIN_MEMORY) throw flagError('--memory', f.memory, 'the minimum memory limit is 6m');
    let swap = limit * 2;
    if (f.memorySwap !== undefined) {
      swap = f.memorySwap === '-1' ? -1 : bytes('--memory-swap', f.memorySwap);
      if (swap !== -1 && swap < limit) throw flagError('--memory-swap', f.memorySwap, 'memory plus swap must be at least the memory limit (--memory)');
    }
    resources.memory = { limit, swap };
  } else if (f.memorySwap !== undefined && f.memorySwap !== '-1') {
    throw conflict('--memory-swap', 'no --memory (set the memory limit when limiting swap)');
  }
  if (f.cpus !== undefined) {
    const cpus = /^\d+(\.\d+)?$|^\.\d+$/.test(f.cpus) ? Number(f.cpus) : NaN;
    const quota = Math.round(cpus * CPU_PERIOD);
    if (!Number.isFinite(cpus) || quota < 1000) throw flagError('--cpus', f.cpus, 'not a number of CPUs of at least 0.01');
    resources.cpu = { quota, period: CPU_PERIOD };
  }
  if (f.cpuShares !== undefined) {
    const shares = integer('--cpu-shares', f.cpuShares);
    if (shares < 0) throw flagError('--cpu-shares', f.cpuShares, 'cannot be negative');
    if (shares > 0) resources.cpu = { ...resources.cpu, shares };
  }
  if (f.pidsLimit !== undefined) {
    const limit = integer('--pids-limit', f.pidsLimit);
    resources.pids = { limit: limit <= 0 ? -1 : limit };
  }
  const rlimits: Rlimit[] = [];
  for (const raw of f.ulimit ?? []) {
    const r = parseUlimit(raw);
    const i = rlimits.findIndex((x) => x.type === r.type);
    if (i === -1) rlimits.push(r);
    else rlimits[i] = r;
  }
  return { resources, rlimits };
}
