/**
 * berthd's --gateway flag (as root, like every integration test): an
 * address given that cannot be listened on stops berthd with an error
 * naming it; a value that is no address is refused naming the flag.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { daemonDirs, runBerthd } from '../../helpers/berthd.ts';

test('--gateway on an address already in use: berthd exits non-zero naming the address', async (t) => {
  const holder = createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  t.after(() => holder.close());
  const port = (holder.address() as { port: number }).port;
  const fg = runBerthd(daemonDirs(t), ['--gateway', `127.0.0.1:${port}`]);
  const { code } = await fg.exited;
  assert.notEqual(code, 0, fg.output());
  assert.match(fg.output(), new RegExp(`functions gateway: cannot listen on 127\\.0\\.0\\.1:${port}`));
});

test('--gateway with a value that is not ADDR:PORT is refused naming the flag', async (t) => {
  const fg = runBerthd(daemonDirs(t), ['--gateway', 'everywhere']);
  const { code } = await fg.exited;
  assert.notEqual(code, 0);
  assert.match(fg.output(), /--gateway "everywhere": not ADDR:PORT/);
});
