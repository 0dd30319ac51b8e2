/**
 * A running busybox container, started the way the engine starts one
 * (berth-monitor's create, then the runtime's start), with an ExecSessions
 * of its own: for the exec and health check tests. Its execs take the
 * engine's default road (the runtime library's exec in this process, the
 * executor exec'd by the exec's monitor) unless `runtimeCommand` asks for
 * the one of another OCI runtime (the monitor runs `berth-runtime exec`).
 * Root only.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { ExecSessions, type ExecContainer, type ExecSessionsOptions } from '../../src/engine/exec/sessions.ts';
import { readExit } from '../../src/engine/monitor/exit-file.ts';
import { startMonitor } from '../../src/engine/monitor/spawn.ts';
import { alive } from './monitors.ts';
import { runtimeContext } from '../../src/runtime/lifecycle/context.ts';
import { type BundleOptions, makeBundle, type TestBundle, onCleanup, RUNTIME_BIN, RuntimeFixture, tempDir, waitFor } from './runtime.ts';

export interface RunningContainer {
  ctx: ExecContainer;
  execs: ExecSessions;
  rootfs: string;
  runRoot: string;
  /** The container's first process, on the host. */
  initPid: number;
  /** Kills the container (from outside, as `stop` ends with), waits for its exit record and tells the sessions. */
  kill(): Promise<void>;
}

let counter = 0;

/** The id is 64 hex digits, as the engine's, so it can also key engine records. */
export async function runningContainer(t: TestContext, name: string, o: { runtimeCommand?: boolean; bundle?: BundleOptions; sessions?: Partial<ExecSessionsOptions>; prepare?: (bundle: TestBundle) => void } = {}): Promise<RunningContainer> {
  const rt = new RuntimeFixture(t);
  const bundle = makeBundle(t, { args: ['sleep', '1000'], ...o.bundle });
  o.prepare?.(bundle);
  // Short: RUNROOT/exec/<64 hex>/console.sock must fit in a socket address (107 bytes).
  const runRoot = tempDir(t, 'bx-');
  const id = rt.track(`${process.pid.toString(16).padStart(8, '0')}${Date.now().toString(16).padStart(16, '0')}${(counter++).toString(16).padStart(8, '0')}`.padEnd(64, '0'));
  const runDir = join(runRoot, 'containers', id);
  mkdirSync(runDir, { recursive: true, mode: 0o700 });
  const { monitorPid } = await startMonitor({
    runtime: RUNTIME_BIN, root: rt.root, bundle: bundle.dir, id, runDir,
    log: { path: join(tempDir(t, 'berth-exec-'), 'ctr.log'), maxSize: 1 << 20, maxFiles: 2, lineMax: 16384 },
  });
  onCleanup(t, async () => {
    await rt.run(['delete', '--force', id]);
    await waitFor('the monitor to exit', () => (alive(monitorPid) ? undefined : true)).catch(() => process.kill(monitorPid, 'SIGKILL'));
  });
  const started = await rt.run(['start', id]);
  assert.equal(started.code, 0, started.stderr);
  let state = 'running';
  const ctx: ExecContainer = {
    id, name, runtime: RUNTIME_BIN, runtimeRoot: rt.root, configPath: join(bundle.dir, 'config.json'), rootfs: bundle.rootfs,
    state: () => state,
    ...(o.runtimeCommand === true ? {} : { runtimeContext: () => Promise.resolve(runtimeContext(rt.root)) }),
  };
  const execs = new ExecSessions({ runRoot, ...o.sessions });
  onCleanup(t, () => execs.close());
  return {
    ctx, execs, rootfs: bundle.rootfs, runRoot, initPid: Number(readFileSync(join(runDir, 'pid'), 'utf8')),
    kill: async () => {
      assert.equal((await rt.run(['kill', id, 'KILL'])).code, 0);
      await waitFor('the container\'s exit', () => readExit(runDir), 20_000);
      state = 'exited';
      await execs.containerStopped(id);
    },
  };
}
