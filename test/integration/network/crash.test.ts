/**
 * A process holding a Sandboxes is killed with SIGKILL in the middle of a
 * CNI ADD chain (a plugin of its directory stops there); recover() in the
 * next process removes everything the database names as half made, keeps a
 * live container's sandbox and holds its port again, and nothing is left in
 * the run root, the mount table, the bridge, the IPAM directory or iptables.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { readLeases } from '../../../src/network/cni/leases.ts';
import { onCleanup } from '../../helpers/cleanup.ts';
import { anyTcpPort, iptablesLines, leaks, netFixture, netSetup, request } from '../../helpers/network.ts';
import { isBerthError } from '../../../src/errors.ts';

const PLUGINS = '/usr/lib/cni';

/** A plugin directory like PLUGINS whose `stopAt` plugin signals on ADD, then waits to be killed (or fails: `onAdd`). */
function stoppingPluginDir(t: TestContext, stopAt: string, onAdd = 'exec sleep 120'): { dir: string; mark: string } {
  const dir = mkdtempSync('/tmp/bnp-');
  onCleanup(t, () => rmSync(dir, { recursive: true, force: true }));
  const mark = join(dir, 'stopped');
  for (const name of readdirSync(PLUGINS)) {
    if (name === stopAt) continue;
    symlinkSync(join(PLUGINS, name), join(dir, name));
  }
  writeFileSync(
    join(dir, stopAt),
    `#!/bin/sh\nif [ "$CNI_COMMAND" = ADD ]; then echo "$CNI_CONTAINERID" > ${mark}; ${onAdd}; fi\nexec ${join(PLUGINS, stopAt)}\n`,
    { mode: 0o755 },
  );
  return { dir, mark };
}

async function waitFor(path: string, child: { exitCode: number | null }): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!existsSync(path)) {
    if (child.exitCode !== null) throw new Error(`child exited (${child.exitCode}) before it stopped`);
    if (Date.now() > deadline) throw new Error(`no ${path} within 30 s`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

for (const stopAt of ['tuning', 'firewall', 'loopback']) {
  test(`kill -9 during the ${stopAt} plugin's ADD, then recover(): nothing left, a live container kept`, async (t) => {
    const f = netFixture(t);
    const before = iptablesLines();
    const net = f.network();
    // A live container attached before the crash, with a published port.
    const liveId = f.container();
    const first = f.sandboxes();
    const live = await first.create(liveId);
    const liveEp = await first.attach(live.id, request(net, { ports: [anyTcpPort()] }));
    await first.close(); // the daemon that held it is gone: its sockets with it

    const { dir, mark } = stoppingPluginDir(t, stopAt);
    const deadId = f.container();
    const child = spawn(process.execPath, [join(import.meta.dirname, '../../helpers/network-crash-child.ts'), f.root, f.runRoot, dir, JSON.stringify(net), deadId], {
      stdio: ['ignore', 'inherit', 'inherit'],
      detached: true,
    });
    onCleanup(t, () => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // Gone already.
      }
    });
    await waitFor(mark, child);
    process.kill(-child.pid!, 'SIGKILL');
    await new Promise((r) => child.once('exit', r));

    const states = f.db.prepare('SELECT s.state AS s, e.state AS e FROM engine_sandboxes s LEFT JOIN engine_endpoints e ON e.sandbox_id = s.id WHERE s.container_id = ?').all(deadId);
    if (stopAt !== 'loopback') {
      assert.deepEqual(states.map((r) => [r['s'], r['e']]), [['ready', 'adding']]);
      assert.equal(readLeases(join(f.root, 'network', 'ipam'), net.id).length, 2, 'the crashed ADD had taken a lease');
    } else {
      assert.deepEqual(states.map((r) => [r['s'], r['e']]), [['creating', null]]);
    }
    // An orphan namespace file under our run root with no row (a crash between file and row cannot
    // happen, the row comes first, but a file made by hand can).
    writeFileSync(join(f.runRoot, 'netns', 'stray'), '');

    const sb = f.sandboxes();
    const report = await sb.recover((id) => id === liveId);
    assert.deepEqual({ kept: report.kept, released: report.released, swept: report.swept, errors: report.errors }, { kept: 1, released: 1, swept: 1, errors: [] });
    assert.equal(sb.ofContainer(deadId), undefined);
    assert.equal(sb.ofContainer(liveId)?.endpoints[0]?.ipv4, liveEp.ipv4);
    // The live container's port is held again.
    const port = liveEp.ports[0]!.hostPort;
    await assert.rejects(
      new Promise((resolve, reject) => {
        const s = createServer().once('error', reject);
        s.listen(port, '127.0.0.1', () => s.close(resolve));
      }),
      { code: 'EADDRINUSE' },
    );
    await sb.release(live.id);
    assert.deepEqual(leaks(f, before), []);
  });
}

test('an ADD that fails in the middle of the chain leaves nothing: DEL ran with the leased address', async (t) => {
  const { f, net, before } = netSetup(t);
  const failing = `echo '{"cniVersion":"1.0.0","code":11,"msg":"tuning said no"}'; exit 1`;
  const { dir } = stoppingPluginDir(t, 'tuning', failing);
  const sb = f.sandboxes({ pluginDir: dir });
  const box = await sb.create(f.container());
  await assert.rejects(sb.attach(box.id, request(net, { macAddress: '02:42:0a:d5:00:98', ports: [anyTcpPort()] })), (e: unknown) =>
    isBerthError(e, 'cni_plugin_failed') && e.message === `network "${net.name}": CNI plugin "tuning" ADD failed: tuning said no (CNI error 11)`,
  );
  assert.deepEqual(sb.get(box.id)?.endpoints, []);
  assert.equal(Number(f.db.prepare('SELECT count(*) AS n FROM engine_endpoints').get()?.['n']), 0);
  await sb.release(box.id);
  assert.deepEqual(leaks(f, before), []);
});
