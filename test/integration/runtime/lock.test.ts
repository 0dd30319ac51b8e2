/**
 * The per-container lock, as root (issue 9, hostile input #3: "anyone can
 * block any container"). The lock was an abstract unix socket, which has
 * no permissions: any local user could bind a container's name first and
 * make its create/start/delete/pause/update wait 30 s and fail. Now it is
 * flock(2) on a 0600 file in the container's state directory: only the
 * runtime's user can take it, and the kernel lets go when the holder dies.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { onCleanup } from '../../helpers/cleanup.ts';
import { standaloneHost } from '../../../src/runtime/host/host.ts';
import { acquireLock, lockPath } from '../../../src/runtime/state/lock.ts';
import { ppidOf } from '../../helpers/processes.ts';
import { berthOnly, makeBundle, parkedHookPid, parkingHook, RuntimeFixture, tempDir, uniqueId } from '../../helpers/runtime.ts';

const NODE = join(import.meta.dirname, '../../../build/node');

/** The abstract address the lock of `id` had under `root` before (FNV-1a 64 of the root), without its leading NUL. */
function formerLockAddress(root: string, id: string): string {
  let h = 0xcbf29ce484222325n;
  for (const byte of Buffer.from(root, 'utf8')) h = ((h ^ BigInt(byte)) * 0x100000001b3n) & 0xffffffffffffffffn;
  return `berth-lock/${h.toString(16).padStart(16, '0')}/${id}`;
}

// Run as nobody: squats the old lock's address, tries to take the new one, reports, and stays until stdin closes.
const ATTACKER = `
const fs = require('node:fs');
const net = require('node:net');
const [name, lockFile] = process.argv.slice(1);
const address = '\\0' + name;
const report = { uid: process.getuid() };
try { fs.closeSync(fs.openSync(lockFile, 'r')); report.opened = true; } catch (err) { report.openError = err.code; }
const server = net.createServer();
server.once('error', (err) => { report.bindError = err.code; console.log(JSON.stringify(report)); });
server.listen({ path: address, exclusive: true }, () => { report.bound = true; console.log(JSON.stringify(report)); });
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
`;

interface Holder {
  child: ReturnType<typeof spawn>;
  report: Promise<Record<string, unknown>>;
}

function spawnHolder(t: TestContext, command: string, args: string[]): Holder {
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  onCleanup(t, () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const report = new Promise<Record<string, unknown>>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString();
      if (out.includes('\n')) resolve(JSON.parse(out.slice(0, out.indexOf('\n'))) as Record<string, unknown>);
    });
    child.once('exit', (code) => reject(new Error(`holder exited with ${code} before it reported`)));
  });
  report.catch(() => undefined);
  return { child, report };
}

async function createdContainer(t: TestContext): Promise<{ rt: RuntimeFixture; id: string }> {
  const rt = new RuntimeFixture(t);
  // As the default state root is made (0711): others may pass through, not list or write.
  chmodSync(rt.root, 0o711);
  const bundle = makeBundle(t, { args: ['sleep', '1000'] });
  const id = rt.track(uniqueId());
  const created = await rt.run(['create', '--bundle', bundle.dir, id]);
  assert.equal(created.code, 0, created.stderr);
  return { rt, id };
}

describe('the per-container lock', { skip: berthOnly('berth-runtime\'s lock file and its lock library (src/runtime/state/lock.ts); runc 1.1 has neither') }, () => {
  test('issue 9 hostile #3: an unprivileged user cannot block a container\'s commands', async (t) => {
    const { rt, id } = await createdContainer(t);
    const attacker = spawnHolder(t, 'setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', NODE, '-e', ATTACKER, formerLockAddress(rt.root, id), lockPath(rt.root, id)]);
    const report = await attacker.report;
    assert.equal(report['uid'], 65534);
    // What the attacker could do: squat the old address, but not open the lock file.
    assert.equal(report['bound'], true, JSON.stringify(report));
    assert.equal(report['openError'], 'EACCES', JSON.stringify(report));
    // While it stays, the container's commands go through.
    for (const args of [['start', id], ['pause', id], ['resume', id], ['update', '--pids-limit', '100', id], ['delete', '--force', id]]) {
      const r = await rt.run(args);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    }
    assert.deepEqual(rt.leftovers(), []);
    attacker.child.stdin?.end();
  });

  test('a library holder killed with SIGKILL leaves no lock behind', async (t) => {
    const { rt, id } = await createdContainer(t);
    const script = join(tempDir(t, 'berth-lock-'), 'hold.ts');
    const lockModule = join(import.meta.dirname, '../../../src/runtime/state/lock.ts');
    const hostModule = join(import.meta.dirname, '../../../src/runtime/host/host.ts');
    writeFileSync(
      script,
      `import { acquireLock } from ${JSON.stringify(lockModule)};\nimport { standaloneHost } from ${JSON.stringify(hostModule)};\n` +
        `await acquireLock(standaloneHost(), ${JSON.stringify(rt.root)}, ${JSON.stringify(id)}, 1000);\nconsole.log('{"held":true}');\nprocess.stdin.resume();\n`,
    );
    const holder = spawnHolder(t, NODE, [script]);
    assert.deepEqual(await holder.report, { held: true });
    await assert.rejects(acquireLock(standaloneHost(), rt.root, id, 100), /another command still holds the lock/);
    holder.child.kill('SIGKILL');
    await new Promise((r) => holder.child.once('exit', r));
    const r = await rt.run(['delete', '--force', id]);
    assert.equal(r.code, 0, r.stderr);
  });

  test('a front killed with SIGKILL while its command holds the lock leaves no lock behind', async (t) => {
    const rt = new RuntimeFixture(t);
    const marker = join(tempDir(t, 'berth-lock-'), 'hook-pid');
    // The createRuntime hook runs while create holds the container's lock; it says its pid and waits.
    const bundle = makeBundle(t, {
      args: ['sleep', '1000'],
      edit: (spec) => {
        spec.hooks = { createRuntime: [parkingHook(marker)] };
      },
    });
    const id = rt.track(uniqueId());
    // The front with its own Node.js child (no resident takes a command with BERTH_RUNTIME_RESIDENT=0): resident.test.ts has the resident's case.
    const creating = rt.run(['create', '--bundle', bundle.dir, id], { env: { ...process.env, BERTH_RUNTIME_RESIDENT: '0' } });
    const hookPid = await parkedHookPid(t, marker);
    await assert.rejects(acquireLock(standaloneHost(), rt.root, id, 100), /another command still holds the lock/);
    const front = ppidOf(hookPid);
    // The hook's parent is the command line (Node.js); its parent, the front, holds the lock.
    const frontPid = ppidOf(front);
    assert.match(readFileSync(`/proc/${frontPid}/cmdline`, 'utf8'), /--berth-front-resume=/);
    process.kill(frontPid, 'SIGKILL');
    const lock = await acquireLock(standaloneHost(), rt.root, id, 10_000);
    await lock.release();
    process.kill(hookPid, 'SIGKILL');
    await creating;
  });
});
