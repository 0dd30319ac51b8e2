/**
 * Test helpers for berth-runtime: busybox bundles in temporary directories,
 * the command run with a private state root, and cleanup of everything a
 * test created (containers, cgroups, state, files), also when it fails.
 */
import { execFileSync, spawn, type SpawnOptions } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { onCleanup, tempDir } from './cleanup.ts';
import { defaultSpec } from '../../src/oci/default-spec.ts';
import type { Spec } from '../../src/oci/runtime-spec.ts';
import { parseCgroupMounts, v1Mounts } from '../../src/runtime/cgroups/mountinfo.ts';

export const REPO = join(import.meta.dirname, '..', '..');
/**
 * Another runc-compatible runtime to run the tests against instead of
 * berth-runtime (BERTH_TEST_RUNTIME=/usr/sbin/runc): a test that fails there
 * is a wrong test, or a difference from runc it must name.
 */
export const OTHER_RUNTIME: string | undefined = process.env['BERTH_TEST_RUNTIME'] || undefined;
export const RUNTIME_BIN = OTHER_RUNTIME ?? join(REPO, 'bin', 'berth-runtime');

/**
 * The skip reason, under another runtime, of a test of what berth-runtime
 * alone does (its features, its front, its trace) or of where runc is known
 * to differ (`why` says how).
 */
export function berthOnly(why: string): string | false {
  return OTHER_RUNTIME === undefined ? false : `berth-runtime only: ${why}`;
}

/** What berth-runtime shows (its words name the container, hook, file...), or what runc shows under runc. */
export function byRuntime(berth: RegExp, runc: RegExp): RegExp {
  return OTHER_RUNTIME === undefined ? berth : runc;
}
export const BUSYBOX = '/bin/busybox';

let counter = 0;
export function uniqueId(prefix = 't'): string {
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${counter++}`;
}

let applets: string[] | undefined;
function busyboxApplets(): string[] {
  if (!applets) {
    const out = execFileSync(BUSYBOX, ['--list'], { encoding: 'utf8' });
    applets = out.split('\n').filter((a) => a && a !== 'busybox');
  }
  return applets;
}

/** A busybox root filesystem: the static binary and a link per applet. */
export function makeRootfs(dir: string): string {
  const rootfs = join(dir, 'rootfs');
  for (const d of ['bin', 'dev', 'etc', 'proc', 'sys', 'tmp', 'root', 'home', 'var', 'run']) mkdirSync(join(rootfs, d), { recursive: true });
  cpSync(BUSYBOX, join(rootfs, 'bin', 'busybox'));
  for (const a of busyboxApplets()) {
    const link = join(rootfs, 'bin', a);
    if (!existsSync(link)) symlinkSync('busybox', link);
  }
  writeFileSync(join(rootfs, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n');
  writeFileSync(join(rootfs, 'etc', 'group'), 'root:x:0:\nnogroup:x:65534:\n');
  return rootfs;
}

export interface BundleOptions {
  args?: string[];
  /** Changes to the default spec (runc's `spec` output with terminal off). */
  edit?: (spec: Spec) => void;
}

export interface TestBundle {
  dir: string;
  rootfs: string;
  spec: Spec;
  writeConfig(): void;
}

export { onCleanup, tempDir } from './cleanup.ts';

export function makeBundle(t: TestContext, options: BundleOptions = {}): TestBundle {
  const dir = tempDir(t, 'berth-bundle-');
  const rootfs = makeRootfs(dir);
  const spec = defaultSpec();
  spec.process!.terminal = false;
  spec.process!.args = options.args ?? ['true'];
  options.edit?.(spec);
  const bundle: TestBundle = {
    dir,
    rootfs,
    spec,
    writeConfig: () => writeFileSync(join(dir, 'config.json'), JSON.stringify(spec, null, 2)),
  };
  bundle.writeConfig();
  return bundle;
}

export interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions extends SpawnOptions {
  input?: string;
  timeoutMs?: number;
}

/** Runs a command to completion, collecting its output. */
export function runCommand(cmd: string, args: readonly string[], options: RunOptions = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], ...options });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.once('error', reject);
    // A detached container inherits the pipes and keeps them open: finish at exit, after what is
    // already written has been read (or a short grace period).
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      const ended = (s: NodeJS.ReadableStream | null): Promise<void> =>
        s ? new Promise((r) => (s as NodeJS.ReadableStream & { readableEnded: boolean }).readableEnded ? r() : s.once('end', () => r())) : Promise.resolve();
      void Promise.race([Promise.all([ended(child.stdout), ended(child.stderr)]), new Promise((r) => setTimeout(r, 200))]).then(() => {
        child.stdout?.destroy();
        child.stderr?.destroy();
        resolve({ code, signal, stdout, stderr });
      });
    });
    // A command that exits without reading its input (a refusal) must not fail the test with EPIPE.
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(options.input ?? '');
  });
}

/** berth-runtime with its own state root; every container it creates is force-deleted after the test. */
export class RuntimeFixture {
  readonly root: string;
  private readonly ids = new Set<string>();

  constructor(t: TestContext) {
    this.root = tempDir(t, 'berth-state-');
    // Registered after the state root's removal, so it runs before it: every container left, tracked or not, goes.
    onCleanup(t, async () => {
      for (const id of new Set([...this.ids, ...this.leftovers()])) {
        const r = await this.run(['delete', '--force', id]);
        if (r.code !== 0 && existsSync(join(this.root, id))) throw new Error(`cleanup: delete --force ${id}: ${r.stderr}`);
      }
    });
  }

  /** Remembers an id for cleanup. */
  track(id: string): string {
    this.ids.add(id);
    return id;
  }

  run(args: readonly string[], options: RunOptions = {}): Promise<Result> {
    return runCommand(RUNTIME_BIN, ['--root', this.root, ...args], options);
  }

  /** Runs `run` of a bundle in the foreground and returns what the container printed. */
  async runBundle(bundle: TestBundle, options: RunOptions = {}): Promise<Result & { id: string }> {
    const id = this.track(uniqueId());
    const r = await this.run(['run', '--bundle', bundle.dir, id], options);
    return { ...r, id };
  }

  async state(id: string): Promise<{ status: string; pid?: number; id: string; bundle: string }> {
    const r = await this.run(['state', id]);
    if (r.code !== 0) throw new Error(`state ${id}: ${r.stderr}`);
    return JSON.parse(r.stdout) as { status: string; pid?: number; id: string; bundle: string };
  }

  /** Container ids that still have state under the root. */
  leftovers(): string[] {
    return existsSync(this.root) ? readdirSync(this.root) : [];
  }
}

/** Polls `check` until it returns a value or the deadline passes. */
export async function waitFor<T>(what: string, check: () => T | undefined | Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let delay = 5;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 100);
  }
}

/** A container's directory in the v1 hierarchy of `controller`, from its first process's /proc/PID/cgroup: the same for any runtime. */
export async function cgroupDirOf(rt: RuntimeFixture, id: string, controller: string): Promise<string> {
  const { pid } = await rt.state(id);
  const line = readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n').find((l) => l.split(':')[1]?.split(',').includes(controller));
  const mount = v1Mounts(parseCgroupMounts(readFileSync('/proc/self/mountinfo', 'utf8'))).get(controller);
  if (line === undefined || mount === undefined) throw new Error(`container ${id} (pid ${pid}): no ${controller} cgroup`);
  return join(mount.mountPoint, line.slice(line.indexOf(':', line.indexOf(':') + 1) + 1));
}

/** The cgroup directories a container id left behind under the default parent (runc's is the hierarchy's root). */
export function cgroupLeftovers(id: string): string[] {
  const out: string[] = [];
  for (const ctrl of readdirSync('/sys/fs/cgroup')) {
    const p = join('/sys/fs/cgroup', ctrl, OTHER_RUNTIME === undefined ? 'berth' : '', id);
    if (existsSync(p)) out.push(p);
  }
  return out;
}

/**
 * A hook command that says its pid in `marker` (written whole, by rename) and then waits, holding
 * whatever its command holds (the container's lock, in create's createRuntime hooks).
 */
export function parkingHook(marker: string): { path: string; args: string[] } {
  return { path: '/bin/sh', args: ['sh', '-c', `cat >/dev/null; echo $$ > ${marker}.tmp; mv ${marker}.tmp ${marker}; exec sleep 1000`] };
}

/** A hook command that creates `marker` and then holds its command for a second: a moment to look at it mid-way. */
export function pausingHook(marker: string): { path: string; args: string[] } {
  return { path: '/bin/sh', args: ['sh', '-c', `cat >/dev/null; : > ${marker}; sleep 1`] };
}

/** The pid a parkingHook wrote, once it did; the hook is killed after the test. */
export async function parkedHookPid(t: TestContext, marker: string): Promise<number> {
  const pid = await waitFor('the command to reach its hook', () => {
    try {
      return Number(readFileSync(marker, 'utf8'));
    } catch {
      return undefined;
    }
  });
  onCleanup(t, () => {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Gone already.
    }
  });
  return pid;
}
