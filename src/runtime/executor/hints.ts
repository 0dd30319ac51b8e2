/**
 * Why a step most likely failed, when the errno alone would leave a user
 * guessing: limits above the runtime's own, capabilities this machine
 * withholds.
 */
import { readFileSync } from 'node:fs';
import type { Step } from '../plan/encode.ts';
import { RLIMIT } from '../linux/constants.ts';

const LIMIT_NAMES: Record<string, string> = {
  RLIMIT_CPU: 'Max cpu time',
  RLIMIT_FSIZE: 'Max file size',
  RLIMIT_DATA: 'Max data size',
  RLIMIT_STACK: 'Max stack size',
  RLIMIT_CORE: 'Max core file size',
  RLIMIT_RSS: 'Max resident set',
  RLIMIT_NPROC: 'Max processes',
  RLIMIT_NOFILE: 'Max open files',
  RLIMIT_MEMLOCK: 'Max locked memory',
  RLIMIT_AS: 'Max address space',
  RLIMIT_LOCKS: 'Max file locks',
  RLIMIT_SIGPENDING: 'Max pending signals',
  RLIMIT_MSGQUEUE: 'Max msgqueue size',
  RLIMIT_NICE: 'Max nice priority',
  RLIMIT_RTPRIO: 'Max realtime priority',
  RLIMIT_RTTIME: 'Max realtime timeout',
};

function hardLimit(resource: number): string | undefined {
  const name = Object.entries(RLIMIT).find(([, n]) => n === resource)?.[0];
  const label = name ? LIMIT_NAMES[name] : undefined;
  if (!label) return undefined;
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith(label));
    return line?.slice(26).trim().split(/\s+/)[1];
  } catch {
    return undefined;
  }
}

function hasCapability(bit: number): boolean {
  try {
    const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    return m?.[1] !== undefined && ((BigInt(`0x${m[1]}`) >> BigInt(bit)) & 1n) === 1n;
  } catch {
    return true;
  }
}

const CAP_SYS_RESOURCE = 24;

export function hintFor(step: Step | undefined, errnoName: string | undefined): string | undefined {
  if (!step) return undefined;
  const args = step.args as Record<string, unknown>;
  if (step.op === 'setrlimit' && errnoName === 'EPERM') {
    const hard = hardLimit(Number(args['resource']));
    const cap = hasCapability(CAP_SYS_RESOURCE) ? '' : ', and the runtime lacks CAP_SYS_RESOURCE';
    return `a hard limit can only be raised above the runtime's own${hard ? ` (${hard})` : ''} with CAP_SYS_RESOURCE${cap}: ask for at most ${hard ?? 'that'}`;
  }
  if (step.op === 'write_file' && String(args['path']).endsWith('oom_score_adj') && (errnoName === 'EACCES' || errnoName === 'EPERM')) {
    return 'lowering oom_score_adj below the current value needs CAP_SYS_RESOURCE';
  }
  if (step.op === 'mknod' && errnoName === 'EPERM') {
    return 'creating device nodes needs CAP_MKNOD and a device cgroup that allows "m"';
  }
  return undefined;
}
