/**
 * exec start's splice of the client's connection and the exec's socket
 * (src/api/routes/exec.ts): it ends with the process's side, also when
 * that side ended before the splice began (an exec without output that
 * finished before its start was reported left `docker exec` hanging).
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, connect, type Socket } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Duplex } from 'node:stream';
import { test } from 'node:test';
import { splice } from '../../../src/api/routes/exec.ts';

/** A connected pair of unix sockets; `far` is the monitor's end. */
async function socketPair(t: { after: (fn: () => void) => void }): Promise<{ near: Socket; far: Socket }> {
  const dir = mkdtempSync(join(tmpdir(), 'splice-'));
  const path = join(dir, 's');
  const server = createServer();
  server.listen(path);
  await once(server, 'listening');
  const near = connect(path);
  const [far] = (await once(server, 'connection')) as [Socket];
  t.after(() => {
    near.destroy();
    far.destroy();
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { near, far };
}

function client(): { conn: Duplex; received: () => string } {
  const out = new PassThrough();
  let text = '';
  out.on('data', (b: Buffer) => (text += b.toString()));
  return { conn: Duplex.from({ readable: new PassThrough(), writable: out }), received: () => text };
}

test('splice passes the output and ends when the process\'s side ends', async (t) => {
  const { near, far } = await socketPair(t);
  near.pause();
  const c = client();
  const done = splice(c.conn, near);
  far.end('out\n');
  await done;
  assert.equal(c.received(), 'out\n');
});

test('an exec without output that ended before the splice began: the splice ends at once (docker exec hung)', async (t) => {
  const { near, far } = await socketPair(t);
  far.end();
  // What the monitor's socket does with nobody reading: the EOF is read, 'end' and 'close' pass unseen.
  await once(near, 'close');
  const c = client();
  await splice(c.conn, near);
  assert.equal(c.received(), '');
});
