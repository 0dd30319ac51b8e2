/**
 * berthd for tests: run from the sources (so a test sees the code it
 * tests, not a stale bundle) on a socket in a temporary directory, never
 * /run/berth; every daemon a test starts, in the foreground or through
 * ensureDaemon, is stopped after it, killed if it will not stop.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { ApiClient } from '../../src/api/client.ts';
import { daemonPaths, type DaemonPaths } from '../../src/api/paths.ts';
import { onCleanup, tempDir } from './cleanup.ts';
import { until } from './api.ts';
import { useTestNetwork } from './test-network.ts';

useTestNetwork();

export const REPO = join(import.meta.dirname, '..', '..');
export const BERTHD_COMMAND = [process.execPath, join(REPO, 'src/cli/berthd/main.ts')];
export const BERTH_COMMAND = [process.execPath, join(REPO, 'src/cli/berth/main.ts')];

/** The pids of live processes whose command line holds `--run-root DIR`: the berthds of that run root. */
export function berthdPids(runRoot: string): number[] {
  const needle = `--run-root\0${runRoot}\0`;
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (!readFileSync(`/proc/${name}/cmdline`, 'latin1').includes(needle)) continue;
      const stat = readFileSync(`/proc/${name}/stat`, 'latin1');
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue;
      pids.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

export { processRunning as alive } from '../../src/api/daemon.ts';

/** Fresh root and run root in a temporary directory; after the test, every berthd of that run root is stopped. */
export function daemonDirs(t: TestContext): DaemonPaths {
  const dir = tempDir(t, 'berthd-test-');
  const paths = daemonPaths({ root: join(dir, 'root'), runRoot: join(dir, 'run') });
  onCleanup(t, async () => {
    for (const pid of berthdPids(paths.runRoot)) process.kill(pid, 'SIGTERM');
    try {
      await until('the test\'s daemons to stop', () => berthdPids(paths.runRoot).length === 0, 5_000);
    } catch {
      for (const pid of berthdPids(paths.runRoot)) process.kill(pid, 'SIGKILL');
    }
  });
  return paths;
}

export interface Foreground {
  child: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** berthd in the foreground, as a supervisor runs it. */
export function runBerthd(paths: DaemonPaths, extra: string[] = []): Foreground {
  const [cmd = '', ...args] = BERTHD_COMMAND;
  const child = spawn(cmd, [...args, '--root', paths.root, '--run-root', paths.runRoot, '--socket', paths.socket, ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return { child, output: () => out, exited };
}

/** Waits until berthd answers on its socket (or its process ends, which fails with its output). */
export async function waitForPing(paths: DaemonPaths, fg?: Foreground): Promise<ApiClient> {
  const client = new ApiClient(paths.socket);
  let ok = false;
  const deadline = Date.now() + 30_000;
  while (!ok) {
    if (fg !== undefined && fg.child.exitCode !== null) throw new Error(`berthd exited with ${fg.child.exitCode}:\n${fg.output()}`);
    if (Date.now() > deadline) throw new Error(`berthd did not answer on ${paths.socket}${fg === undefined ? '' : `:\n${fg.output()}`}`);
    ok = await client.ping(1_000);
  }
  return client;
}
