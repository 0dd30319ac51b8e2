/**
 * The resident command line of this build (src/cli/berth-runtime/resident.ts),
 * for the tests that start one, look at it and stop it.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { connect } from 'node:net';
import { residentSocketPath } from '../../src/cli/berth-runtime/resident-start.ts';
import { waitFor } from './runtime.ts';

export const residentSocket = (): string => residentSocketPath();

/** The pid of this build's resident while one runs (the pid its lock file names, if that process is a resident). */
export function residentPid(): number | undefined {
  let text: string;
  try {
    text = readFileSync(`${residentSocket().slice(0, -'.sock'.length)}.lock`, 'utf8');
  } catch {
    return undefined;
  }
  const pid = Number(text.trim());
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    const environ = readFileSync(`/proc/${pid}/environ`, 'utf8');
    return environ.split('\0').includes('BERTH_RESIDENT_SERVE=1') ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Stops this build's resident, if one runs, and waits until it has gone. */
export async function stopResident(): Promise<void> {
  const pid = residentPid();
  if (pid === undefined) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return;
  }
  // Gone when nothing answers on its socket any more: a killed process's main thread shows as a zombie
  // while its other threads may still hold its descriptors (the listening socket and the lock).
  await waitFor('the resident to go', async () => ((await answers(residentSocket())) ? undefined : true));
}

function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(path);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** What a test that waited for a resident in vain says: the lock's pid, the resident's log, the residents running. */
export function residentDiagnostics(): string {
  const base = residentSocket().slice(0, -'.sock'.length);
  const read = (f: string): string => {
    try {
      return readFileSync(f, 'utf8').trim();
    } catch (err) {
      return (err as Error).message;
    }
  };
  const running = readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => read(`/proc/${p}/cmdline`).includes('berth-runtime.cjs'))
    .map((p) => `${p}:${read(`/proc/${p}/stat`).split(') ')[1]?.[0] ?? '?'}`);
  return `lock ${read(`${base}.lock`)}, log ${JSON.stringify(read(`${base}.log`))}, berth-runtime.cjs processes ${running.join(' ') || 'none'}`;
}
