/**
 * A real berthd process on private roots, for the fault tests: busybox is
 * imported into the root first, the daemon runs as a child of the test
 * (its own process group) with short run-root paths (the monitor's attach
 * socket must fit a sockaddr_un's 108 bytes), and can be killed with
 * SIGKILL and started again on the same roots. `cleanup()` kills what
 * runs, removes every container through the engine library (which also
 * undoes what a crash left), and deletes both roots.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { ApiClient } from '../../src/api/client.ts';
import { Engine } from '../../src/engine/engine.ts';
import { parseRunOptions, type RunFlags } from '../../src/engine/spec/options.ts';
import { ImageStore } from '../../src/image/store/store.ts';
import { buildDir } from '../../src/paths.ts';
import { MNT_DETACH, umount2 } from '../../src/sys/index.ts';
import { parseMountInfo } from '../../src/sys/mountinfo.ts';
import { importBusybox } from './engine.ts';
import { monitorsOf } from './engine-leaks.ts';
import { useTestNetwork } from './test-network.ts';
import { NetworkLayer } from '../../src/network/layer.ts';

useTestNetwork();

export interface Daemon {
  pid: number;
  client: ApiClient;
  /** Resolves when the process has exited. */
  exited: Promise<void>;
  kill9(): Promise<void>;
  /** SIGTERM: the daemon stops, containers keep running. */
  stop(): Promise<void>;
}

export interface DaemonFixture {
  root: string;
  runRoot: string;
  socket: string;
  /** berthd's stderr, appended by every daemon started here. */
  log: string;
  start(env?: NodeJS.ProcessEnv): Promise<Daemon>;
  cleanup(): Promise<void>;
}

/** Polls `check` every 25 ms until it holds; `what` names it in the timeout error. */
export async function until(what: string, check: () => boolean | Promise<boolean>, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await delay(25);
  }
}

export async function daemonFixture(): Promise<DaemonFixture> {
  const base = mkdtempSync(join(tmpdir(), 'berth-faults-'));
  const root = join(base, 'root');
  const runRoot = mkdtempSync('/tmp/bf-');
  const socket = join(runRoot, 'berth.sock');
  const log = process.env['BERTH_TEST_FAULT_LOG'] ?? join(base, 'berthd.log');
  const images = await ImageStore.open({ root });
  await importBusybox(images, join(base, 'scratch'));
  images.close();
  rmSync(join(base, 'scratch'), { recursive: true, force: true });
  const running = new Set<ChildProcess>();

  const start = async (env: NodeJS.ProcessEnv = {}): Promise<Daemon> => {
    const fd = openSync(log, 'a');
    const child = spawn(join(buildDir(), 'berthd.cjs'), ['--root', root, '--run-root', runRoot, '--socket', socket, '--log-level', 'debug', '--gateway', 'off'], {
      stdio: ['ignore', fd, fd],
      env: { ...process.env, ...env },
      detached: true,
    });
    closeSync(fd);
    running.add(child);
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    void exited.then(() => running.delete(child));
    const client = new ApiClient(socket);
    let gone = false;
    void exited.then(() => (gone = true));
    await until('berthd to answer on its socket', async () => {
      if (gone) throw new Error(`berthd exited before it answered (see ${log})`);
      return client.ping(1_000);
    });
    return {
      pid: child.pid!,
      client,
      exited,
      async kill9() {
        child.kill('SIGKILL');
        await exited;
      },
      async stop() {
        child.kill('SIGTERM');
        await exited;
      },
    };
  };

  return {
    root,
    runRoot,
    socket,
    log,
    start,
    async cleanup() {
      for (const child of running) {
        child.kill('SIGKILL');
        await new Promise((r) => child.once('exit', r));
      }
      try {
        // With the network layer, so what CNI made for its containers (namespaces, leases, rules) is released too.
        const engine = await Engine.open({ root, runRoot, network: (db, paths) => new NetworkLayer(db, { ...paths, poolSize: 0 }) });
        try {
          await engine.recover();
          for (const r of engine.containers.list()) await engine.remove(r.id, { force: true, volumes: true }).catch(() => undefined);
          await engine.recover();
          for (const v of engine.volumes.list()) engine.volumes.remove(v.name);
        } finally {
          await engine.shutdown();
          engine.images.close();
        }
      } finally {
        // Whatever the engine could not undo (a failed test's state): no container keeps running, no mount stays.
        killLeftovers(runRoot);
        unmountUnder(root);
        unmountUnder(runRoot);
        rmSync(base, { recursive: true, force: true });
        rmSync(runRoot, { recursive: true, force: true });
      }
    },
  };
}

/** SIGKILL to the processes of each container a monitor of `runRoot` runs (its cgroup), then to the monitor. */
function killLeftovers(runRoot: string): void {
  for (const [id, pids] of monitorsOf(runRoot)) {
    try {
      for (const pid of readFileSync(`/sys/fs/cgroup/pids/berth/${id}/cgroup.procs`, 'utf8').split('\n').filter((p) => p !== '')) killQuietly(Number(pid));
    } catch {
      // No such cgroup: the container is gone.
    }
    for (const pid of pids) killQuietly(pid);
  }
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // Gone already.
  }
}

function unmountUnder(root: string): void {
  const under = parseMountInfo(readFileSync('/proc/self/mountinfo', 'utf8')).filter((m) => m.mountPoint.startsWith(`${root}/`));
  for (const m of under.reverse()) umount2(m.mountPoint, MNT_DETACH);
}

/** `POST /berth/containers/create` as `berth create` sends it; the new container's ID. */
export async function createContainer(client: ApiClient, args: string[], flags: RunFlags = {}, image = 'busybox'): Promise<string> {
  const options = parseRunOptions(flags, {});
  const created = (await client.json('POST', '/berth/containers/create', { body: { image, args, options, tty: false, openStdin: false, stdinOnce: false } })) as { Id: string };
  return created.Id;
}

/** `POST /containers/ID/wait`: the exit code (and error) once the condition holds. */
export async function waitExit(client: ApiClient, id: string, condition: 'not-running' | 'next-exit' | 'removed' = 'not-running'): Promise<{ StatusCode: number; Error?: { Message: string } }> {
  const answer = await client.request('POST', `/containers/${id}/wait`, { query: { condition } });
  if (answer.status !== 200) throw new Error(`wait ${id}: HTTP ${answer.status}: ${answer.body.toString()}`);
  return JSON.parse(answer.body.toString().trim()) as { StatusCode: number; Error?: { Message: string } };
}

export interface Inspected {
  Id: string;
  Name: string;
  State: { Status: string; Running: boolean; Restarting: boolean; Pid: number; ExitCode: number; OOMKilled: boolean; Error: string };
  RestartCount: number;
}

export async function inspect(client: ApiClient, ref: string): Promise<Inspected> {
  return (await client.json('GET', `/containers/${ref}/json`)) as Inspected;
}

/** The stdout of a (non-tty) container's log, demultiplexed from docker's 8-byte frames. */
export async function logText(client: ApiClient, id: string): Promise<string> {
  const answer = await client.request('GET', `/containers/${id}/logs`, { query: { stdout: true, stderr: true } });
  if (answer.status !== 200) throw new Error(`logs ${id}: HTTP ${answer.status}: ${answer.body.toString()}`);
  const out: Buffer[] = [];
  let b = answer.body;
  while (b.length >= 8) {
    const len = b.readUInt32BE(4);
    out.push(b.subarray(8, 8 + len));
    b = b.subarray(8 + len);
  }
  return Buffer.concat(out).toString();
}
